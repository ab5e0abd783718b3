"""The fleet pages at 375 px (a phone), in English and French: nothing wider than the screen
(tables scroll in their own box, VINs and card numbers wrap), no console error."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from tests.browser.conftest import page_errors, portal_url
from tests.browser.test_phone_width import PHONE, _widths
from tests.live import blocking

pytestmark = pytest.mark.slow


def make_fleet(network):
    from apps.fleet import services

    with tenant_context(network.tenant):
        fleet = services.fleet_create(name=f"Vans {network.tag}", site=network.site_a)
        van = services.vehicle_create(
            fleet=fleet,
            make="Mercedes-Benz",
            model="eSprinter Kastenwagen",
            battery_kwh=Decimal("113"),
            vin=f"WDB{network.tag}".ljust(17, "9"),
            plate=f"VAN-{network.tag}",
            depot=network.site_a,
        )
        services.card_create(
            fleet=fleet, uid=f"CARD-{network.tag}-0123456789ABCDEF0123", vehicle=van
        )
        return fleet.pk, van.pk


@pytest.mark.parametrize("language", ["en", "fr"])
def test_fleet_pages_fit_a_phone(network, portal_server, sign_in, language):
    fleet_id, van_id = blocking(lambda: make_fleet(network))
    page = sign_in(network.host, "owner@alpha.test")
    if language == "fr":
        with page.expect_navigation():  # the menu submits itself: wait for the French page
            page.select_option("form.lang select[name=language]", "fr")
    page.set_viewport_size(PHONE)
    too_wide = {}
    for path in (
        "/fleet/",
        f"/fleet/{fleet_id}/",
        "/fleet/vehicles/",
        f"/fleet/vehicles/{van_id}/",
        "/fleet/cards/",
        "/fleet/usage/",
        "/fleet/import/",
    ):
        response = page.goto(portal_url(network, portal_server, path))
        assert response.status < 400, (path, response.status)
        measured = _widths(page)
        if measured["scroll"] > PHONE["width"]:
            too_wide[path] = measured
    assert too_wide == {}
    if language == "fr":
        page.goto(portal_url(network, portal_server, f"/fleet/vehicles/{van_id}/"))
        assert "Télémétrie" in page.content()
    assert page_errors(page) == []
