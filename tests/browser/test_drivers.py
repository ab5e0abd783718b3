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


@pytest.fixture
def walk_network(live_db):
    """A listed site with one station and a public tariff, a driver (confirmed e-mail) whose
    card is verified.  Sessions and receipts are accounting records (billing keeps them, and
    forbids deleting them): the cleanup unlists the site and removes the driver, tips and
    cases, and leaves the station, its sessions and receipts."""
    import datetime as dt

    from django.utils import timezone

    from apps.billing import services as billing
    from apps.charging.services import token_create
    from apps.drivers import services
    from apps.drivers.cards import card_code
    from apps.stations.services import site_create, station_register
    from apps.tenants.models import Tenant

    tag = uuid.uuid4().hex[:6].upper()
    password = f"pw-{tag.lower()}-0123456789"
    email = f"walk-{tag.lower()}@drivers.test"

    def create():
        tenant = Tenant.objects.get(slug="alpha")
        with tenant_context(tenant):
            site = site_create(
                name=f"Walk {tag}", latitude="45.507000", longitude="-73.554000",
                timezone="America/Montreal", city="Montréal",
            )  # fmt: skip
            services.listing_save(site=site)
            station = station_register(
                identity=f"WALK-{tag}", password=password, site=site, name=f"Walk charger {tag}"
            )
            tariff = billing.tariff_create(
                name=f"Walk {tag}",
                definition={"currency": "CAD", "energy": [{"price_per_kwh": "0.25"}]},
                effective_from=timezone.now() - dt.timedelta(days=1),
            )
            billing.tariff_assign(tariff=tariff, site=site)
            card = token_create(uid=f"WALK{tag}", label="walk card")
            driver = services.driver_sign_up(
                email=email, password="a long walk password", verify_url="http://x/TOKEN/"
            )
            driver.email_verified_at = timezone.now()
            driver.save()
            link = services.card_link(driver=driver, uid=card.uid)
            services.card_verify_code(
                card=link, code=card_code(schema_name=connection.schema_name, uid=card.uid)
            )
        return {
            "tenant": tenant,
            "host": tenant.get_primary_domain().domain,
            "station": station,
            "site": site,
            "password": password,
            "card": card,
            "email": email,
            "tag": tag,
        }

    world = blocking(create)
    yield world

    def remove():
        from apps.drivers.models import Driver, FinderListing, Tip
        from apps.support.models import Case

        with tenant_context(world["tenant"]):
            Tip.objects.filter(station=world["station"]).delete()
            Case.objects.filter(requester_email=email).delete()
            Driver.objects.filter(email=email).delete()
            FinderListing.objects.filter(site=world["site"]).delete()

    blocking(remove)


def _bill_last_session(world) -> str:
    """Billing prices a session that ended in its Celery task; no worker runs here."""
    from apps.billing import services as billing
    from apps.charging.models import ChargingSession

    with tenant_context(world["tenant"]):
        session = ChargingSession.objects.filter(station=world["station"]).latest("started_at")
        billing.session_bill(session_id=session.pk)
        return str(session.pk)


def _case_of(world):
    from apps.support.models import Case

    with tenant_context(world["tenant"]):
        case = Case.objects.get(requester_email=world["email"])
        return {
            "status": case.status,
            "station": case.station_id,
            "session": case.session_id,
            "receipt": case.receipt_number,
            "files": list(case.attachments.values_list("content_type", flat=True)),
        }


def test_the_full_phone_walk_find_charge_receipt_tip_and_help(
    walk_network, portal_server, browser, loop
):
    """375 px, headless Chromium: find the station from a typed place, sign in, charge with
    the verified card at the simulated station, see the session and its receipt (and its PDF),
    leave a tip at the station, and open a support case from the receipt with a photo."""
    world = walk_network
    base = f"http://{world['host']}:{portal_server.port}"
    station_id = world["station"].pk
    station = simulated(world, portal_server, loop)
    context = browser.new_context(locale="en", **PHONE)
    try:
        assert loop.run(station.connect()) == "Accepted"
        page = context.new_page()
        watch_errors(page)

        # Find it.
        page.goto(f"{base}/drivers/")
        page.fill("#id_near", HERE)
        page.click("#finder-form button[type=submit]")
        page.wait_for_selector("#best")
        assert page.get_attribute("#best", "data-station") == str(station_id)
        page.click("#best a:has-text('Walk charger')")
        page.wait_for_url(f"**/drivers/stations/{station_id}/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375

        # Sign in.
        page.goto(f"{base}/drivers/sign-in/")
        page.fill("#id_email", world["email"])
        page.fill("#id_password", "a long walk password")
        page.click("#signin-form button[type=submit]")
        page.wait_for_url("**/drivers/account/")
        card = page.locator(f'[data-card="{world["card"].uid}"]')
        assert card.get_attribute("data-status") == "verified"

        # Charge with the card at the station, then stop.
        loop.run(station.plug_in(1, Vehicle(soc=30)))
        loop.run(station.start_session(1, world["card"].uid))
        loop.run(station.stop_session(1))
        session_id = blocking(lambda: _bill_last_session(world))

        # The session and its receipt.
        page.goto(f"{base}/drivers/account/")
        page.click(f'[data-session="{session_id}"] a')
        page.wait_for_url(f"**/drivers/account/sessions/{session_id}/")
        page.wait_for_selector("#receipt dd strong")
        assert "CAD" in page.inner_text("#receipt")
        pdf = page.evaluate(
            "async (url) => { const r = await fetch(url);"
            " return [r.status, r.headers.get('content-type')]; }",
            page.get_attribute("#receipt-pdf", "href"),
        )
        assert pdf == [200, "application/pdf"]
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        receipt_page = page.url

        # A tip at the station.
        page.goto(f"{base}/drivers/stations/{station_id}/")
        page.fill("#tip-form textarea", f"Entrance by the lifts, level P1 ({world['tag']})")
        page.click("#tip-form button[type=submit]")
        page.wait_for_selector(f"#tips .tip:has-text('{world['tag']}')")

        # Something went wrong: a case from the receipt, with a photo of the screen.
        page.goto(receipt_page)
        page.click("#open-case")
        page.wait_for_selector("#open-form")
        assert world["station"].name in page.inner_text("#attached-station")
        assert page.input_value("#id_email") == world["email"]
        page.select_option("#id_category", "charge_failed")
        page.fill("#id_subject", "Charged but it stopped")
        page.fill("#id_description", "It stopped after a minute.")
        page.set_input_files(
            "#id_attachment",
            files=[{"name": "screen.png", "mimeType": "image/png", "buffer": PNG_BYTES}],
        )
        page.click("#open-form button[type=submit]")
        page.wait_for_selector("#public-status[data-status=new]")
        assert "screen.png" in page.inner_text(".conversation")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        case = blocking(lambda: _case_of(world))
        assert case["station"] == station_id and str(case["session"]) == session_id
        assert case["receipt"] and case["files"] == ["image/png"]
        assert page_errors(page) == []
    finally:
        context.close()
        loop.run(station.close())


PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
