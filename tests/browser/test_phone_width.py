"""At 375 px (a phone) no portal page is wider than the screen: the shared top bar (navigation,
search box, language and sign-out forms) wraps, and wide tables scroll inside their own box."""

from __future__ import annotations

import uuid

import pytest
from django_tenants.utils import tenant_context

from tests.browser.conftest import page_errors, portal_url
from tests.factories import ChargingSessionFactory
from tests.live import blocking

PHONE = {"width": 375, "height": 740}


def _widths(page) -> dict:
    return page.evaluate(
        """() => {
          const wider = Array.from(document.querySelectorAll('body *'))
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
            .filter(e => !e.closest('table.list, .main-nav, .leaflet-container'))
            .slice(0, 5)
            .map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).trim().split(/\\s+/).join('.') : ''));
          return {scroll: document.documentElement.scrollWidth, wider: wider};
        }"""
    )


@pytest.mark.parametrize("language", ["en", "fr"])
def test_no_page_scrolls_sideways_on_a_phone(network, portal_server, sign_in, language):
    def long_ids():
        # A 2.0.1 transaction id and a contract id have no place to break a line.
        with tenant_context(network.tenant):
            return ChargingSessionFactory(
                station=network.station_a,
                transaction_id=uuid.uuid4().hex + uuid.uuid4().hex[:4],
                id_token="FRXYZC" + uuid.uuid4().hex[:26].upper(),
            )

    session = blocking(long_ids)
    page = sign_in(network.host, "owner@alpha.test")
    if language == "fr":
        page.select_option("form.lang select[name=language]", "fr")
        page.wait_for_load_state("load")
    page.set_viewport_size(PHONE)
    paths = [
        "/dashboard/",
        "/sites/",
        f"/sites/{network.site_a.pk}/",
        "/stations/",
        f"/stations/{network.station_a.pk}/",
        "/sessions/",
        f"/sessions/{session.pk}/",
        "/sessions/tokens/",
        "/alerts/",
        "/people/",
        "/audit/",
        "/billing/tariffs/",
    ]
    too_wide = {}
    for path in paths:
        response = page.goto(portal_url(network, portal_server, path))
        assert response.status < 400, (path, response.status)
        measured = _widths(page)
        if measured["scroll"] > PHONE["width"]:
            too_wide[path] = measured
    assert too_wide == {}
    # The top bar still offers everything on the phone: navigation, search, language, sign out.
    page.goto(portal_url(network, portal_server, "/dashboard/"))
    for selector in (".main-nav a", "form.search input", "form.lang select", "form.logout button"):
        box = page.locator(selector).first.bounding_box()
        assert box and box["width"] > 0 and box["x"] >= 0, selector
    assert page_errors(page) == []
