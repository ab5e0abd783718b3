"""The site form in a real browser (Debian's Chromium) against a real server process: the owner
picks the site on the map (the coordinates fields follow), is told inline about a taken name
(nothing saved), then creates the site and edits its time zone; no script error on the way."""

from __future__ import annotations

import uuid

import pytest
from django_tenants.utils import tenant_context

from tests.browser.conftest import page_errors
from tests.live import blocking

pytestmark = pytest.mark.slow

SAVE = "main section.card form button[type=submit]"


def _site(name: str):
    from apps.stations.models import Site
    from apps.tenants.models import Tenant

    def run():
        with tenant_context(Tenant.objects.get(slug="alpha")):
            return Site.objects.filter(name=name).values("pk", "latitude", "timezone").first()

    return blocking(run)


def _site_create(name: str) -> None:
    from apps.stations.services import site_create
    from apps.tenants.models import Tenant

    def run():
        with tenant_context(Tenant.objects.get(slug="alpha")):
            site_create(name=name)

    blocking(run)


def _alpha_host() -> str:
    from apps.tenants.models import Tenant

    return blocking(lambda: Tenant.objects.get(slug="alpha").get_primary_domain().domain)


def test_the_owner_picks_a_site_on_the_map_and_creates_it(live_db, portal_server, sign_in):
    host = _alpha_host()
    base = f"http://{host}:{portal_server.port}"
    tag = uuid.uuid4().hex[:6]
    name, taken = f"Picked site {tag}", f"Taken site {tag}"
    _site_create(taken)
    page = sign_in(host, "owner@alpha.test")
    page.goto(f"{base}/sites/")
    page.click("a[href$='/sites/new/']")
    page.wait_for_url("**/sites/new/")
    assert page.input_value("#id_latitude") == ""
    page.locator("#site-map").click(position={"x": 200, "y": 120})
    latitude = float(page.input_value("#id_latitude"))
    longitude = float(page.input_value("#id_longitude"))
    assert -90 <= latitude <= 90 and -180 <= longitude <= 180
    assert page.locator("#site-map .leaflet-marker-icon").count() == 1

    # Typing moves the marker; a taken name is an inline error and nothing is saved.
    page.fill("#id_latitude", "45.5017")
    page.fill("#id_longitude", "-73.5673")
    page.locator("#id_longitude").dispatch_event("change")
    page.fill("#id_name", taken)
    page.select_option("#id_timezone", "America/Montreal")
    page.fill("#id_country", "ca")
    page.click(SAVE)
    assert page.locator("main .errorlist").count() == 1
    assert _site(name) is None and page.input_value("#id_latitude") == "45.5017"
    page.fill("#id_name", name)
    page.click(SAVE)
    page.wait_for_url("**/sites/*/")
    assert page.locator("h1").inner_text().startswith(name)
    saved = _site(name)
    assert saved and str(saved["latitude"]) == "45.501700"

    page.click(f"a[href$='/sites/{saved['pk']}/edit/']")
    page.select_option("#id_timezone", "America/Vancouver")
    page.click(SAVE)
    page.wait_for_url(f"**/sites/{saved['pk']}/")
    assert _site(name)["timezone"] == "America/Vancouver"
    assert not page_errors(page)
