"""The drivers' side in a real phone-sized Chromium against the ASGI server, with a simulated
station: find the most convenient station from a typed place, watch its availability change
live as the station starts charging (pushed, no reload), sign up, confirm the e-mail, link a
card with the code printed on it."""

from __future__ import annotations

import re
import uuid

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.simulator.physics import Vehicle
from apps.simulator.station import SimulatedStation, StationConfig
from tests.browser.conftest import page_errors, watch_errors
from tests.live import blocking

pytestmark = pytest.mark.slow

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}
HERE = "45.5089, -73.5617"


@pytest.fixture
def finder_network(live_db):
    from apps.charging.services import token_create
    from apps.drivers import ratelimit, services
    from apps.stations.services import site_create, station_register
    from apps.tenants.models import Tenant

    tag = uuid.uuid4().hex[:6].upper()
    password = f"pw-{tag.lower()}-0123456789"

    def create():
        tenant = Tenant.objects.get(slug="alpha")
        with tenant_context(tenant):
            near = site_create(
                name=f"Quay {tag}", latitude="45.507000", longitude="-73.554000",
                timezone="America/Montreal", city="Montréal",
            )  # fmt: skip
            far = site_create(
                name=f"Laval {tag}", latitude="45.570000", longitude="-73.750000",
                timezone="America/Montreal", city="Laval",
            )  # fmt: skip
            services.listing_save(site=near, access_note="Level P1, by the lifts")
            services.listing_save(site=far)
            station = station_register(
                identity=f"DRV-{tag}", password=password, site=near, name=f"Quay charger {tag}"
            )
            other = station_register(
                identity=f"DRV-{tag}-F", password=password, site=far, name=f"Laval {tag}"
            )
            card = token_create(uid=f"CARD{tag}", label="driver card")
            # every run signs up from 127.0.0.1: start with a fresh allowance
            ratelimit.reset("signup", "127.0.0.1", window_seconds=3600)
        return {
            "tenant": tenant,
            "host": tenant.get_primary_domain().domain,
            "station": station,
            "other": other,
            "sites": [near, far],
            "password": password,
            "card": card,
            "tag": tag,
        }

    world = blocking(create)
    yield world

    def remove():  # committed rows: leave the tenant as other tests expect it
        from apps.charging.models import ChargingSession, MeterValue
        from apps.drivers.models import Driver, FinderListing
        from apps.stations.models import Site, Station

        with tenant_context(world["tenant"]):
            Driver.objects.filter(email__endswith=f"{world['tag'].lower()}@drivers.test").delete()
            FinderListing.objects.filter(site__in=world["sites"]).delete()
            stations = Station.objects.filter(pk__in=[world["station"].pk, world["other"].pk])
            MeterValue.objects.filter(station__in=stations).delete()
            ChargingSession.objects.filter(station__in=stations).delete()
            stations.delete()
            Site.objects.filter(pk__in=[site.pk for site in world["sites"]]).delete()
            world["card"].delete()

    blocking(remove)


def simulated(world, server, loop) -> SimulatedStation:
    config = StationConfig(
        identity=world["station"].identity,
        url=f"ws://127.0.0.1:{server.port}/ocpp/",
        password=world["password"],
        version="1.6",
        evse_count=1,
        meter_interval=5,
        vendor="ChargeGrid",
        model="SimCharger AC",
        firmware_version="2.4.1",
    )

    async def make():
        return SimulatedStation(config)

    return loop.run(make())


def test_a_driver_finds_the_station_sees_it_taken_signs_up_and_links_a_card(
    finder_network, portal_server, browser, loop
):
    world = finder_network
    base = f"http://{world['host']}:{portal_server.port}"
    station_id = world["station"].pk
    station = simulated(world, portal_server, loop)
    context = browser.new_context(locale="en", **PHONE)
    try:
        assert loop.run(station.connect()) == "Accepted"
        page = context.new_page()
        watch_errors(page)

        # Find the most convenient station from a typed place.
        page.goto(f"{base}/drivers/")
        page.fill("#id_near", HERE)
        page.click("#finder-form button[type=submit]")
        page.wait_for_selector("#best")
        assert page.get_attribute("#best", "data-station") == str(station_id)
        assert "Quay charger" in page.inner_text("#best")
        page.wait_for_selector(f'#best [data-free="{station_id}"]:text("1")', timeout=10_000)
        directions = page.get_attribute("#best a.button", "href")
        assert directions.startswith("https://www.google.com/maps/dir/?api=1&destination=45.507")
        page.wait_for_selector("#live-state[data-live=on]", timeout=10_000)
        page.evaluate("window.__sameDocument = true")
        # Fits a phone: nothing wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= 375

        # The station starts charging: the page shows the port taken, pushed, not reloaded.
        loop.run(station.plug_in(1, Vehicle(soc=30)))
        loop.run(station.start_session(1, world["card"].uid))
        page.wait_for_selector(f'#best [data-free="{station_id}"]:text("0")', timeout=15_000)
        row = page.locator(f'.station-row[data-station="{station_id}"]')
        assert "busy" in (row.get_attribute("class") or "")
        assert page.evaluate("window.__sameDocument") is True

        # Sign up, confirm the e-mail from the link sent.
        email = f"phone-{world['tag'].lower()}@drivers.test"
        page.click("text=Create an account")
        page.fill("#id_email", email)
        page.fill("#id_full_name", "Phone Driver")
        page.fill("#id_password", "a long phone password")
        page.select_option("#id_language", "en")
        page.click("#signup-form button[type=submit]")
        page.wait_for_url("**/drivers/account/")
        assert page.is_visible("#verify-email")
        link = blocking(lambda: _verification_link(world["tenant"], email))
        page.goto(base + re.sub(r"^https?://[^/]+", "", link))
        page.wait_for_url("**/drivers/account/")
        assert not page.is_visible("#verify-email")

        # Link the card with the code printed on it.
        page.fill("#id_uid", world["card"].uid)
        page.click("#card-form button[type=submit]")
        card = page.locator(f'[data-card="{world["card"].uid}"]')
        assert card.get_attribute("data-status") == "pending"
        code = blocking(lambda: _card_code(world["tenant"], world["card"].uid))
        card.locator("input[name=code]").fill(code)
        card.locator("button:text('Verify')").click()
        page.wait_for_selector(f'[data-card="{world["card"].uid}"][data-status="verified"]')
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        assert page_errors(page) == []
    finally:
        context.close()
        loop.run(station.close())


def _verification_link(tenant, email: str) -> str:
    from apps.notifications.models import Notification

    with tenant_context(tenant):
        message = Notification.objects.get(
            contact__email=email, kind="drivers.verify_email", channel="email"
        )
        return message.context["link"]


def _card_code(tenant, uid: str) -> str:
    from apps.drivers.cards import card_code

    with tenant_context(tenant):
        return card_code(schema_name=connection.schema_name, uid=uid)
