"""The valet board in real Chromium follows a real 1.6 station: when the car stops drawing
(SuspendedEV) its row appears without a reload; "Moved" takes it off."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django_tenants.utils import tenant_context
from ocpp.v16 import call as call16

from tests.browser.conftest import Network, page_errors, portal_url
from tests.conftest import PASSWORD
from tests.live import blocking
from tests.ocpp.clients import Connected

pytestmark = pytest.mark.slow


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def make_valet(network: Network) -> str:
    from apps.accounts.services import user_create
    from apps.roles.services import role_assign, role_by_slug

    email = f"valet-{network.tag.lower()}@alpha.test"
    with tenant_context(network.tenant):
        user = user_create(email=email, password=PASSWORD)
        role_assign(user=user, role=role_by_slug("valet"), sites=[network.site_a])
    return email


@pytest.mark.parametrize("width", [1360, 375])
def test_the_board_shows_a_finished_car_live_and_takes_it_off_when_moved(
    network, portal_server, sign_in, loop, width
):
    email = blocking(lambda: make_valet(network))
    page = sign_in(network.host, email)
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(portal_url(network, portal_server, f"/valet/sites/{network.site_a.pk}/"))
    page.wait_for_selector("#live-indicator.live", timeout=10_000)
    page.evaluate("window.__sameDocument = true")
    assert page.locator("tr[data-session]").count() == 0

    station = network.station_a
    holder = {}

    async def charge_then_finish():
        async with Connected(portal_server.ws, station.identity, network.password_a, "1.6") as cp:
            await cp.call(call16.BootNotification(charge_point_vendor="V", charge_point_model="M"))
            started = await cp.call(
                call16.StartTransaction(
                    connector_id=1, id_tag=network.token, meter_start=0, timestamp=now_iso()
                )
            )
            holder["tx"] = started.transaction_id
            for status in ("Charging", "SuspendedEV"):
                await cp.call(
                    call16.StatusNotification(
                        connector_id=1, error_code="NoError", status=status, timestamp=now_iso()
                    )
                )

    loop.run(charge_then_finish())
    row = page.locator(f'tr[data-session="{holder["tx"]}"]')  # 1.6: transaction id = session id
    row.wait_for(timeout=15_000)
    assert page.evaluate("window.__sameDocument") is True  # updated in place
    assert station.name in row.inner_text()
    box = page.locator("#valet-board").bounding_box()
    assert box["width"] <= width  # the board fits the screen (its table scrolls inside)
    row.get_by_role("button", name="Moved").click()
    page.wait_for_load_state()
    assert page.locator(f'tr[data-session="{holder["tx"]}"]').count() == 0
    assert page_errors(page) == []


def test_the_idle_fee_accrues_on_the_board_without_a_reload(network, portal_server, sign_in, loop):
    """A tariff on the station with an idle fee of 36.00/h per started second (a cent a
    second, no grace): once the car stops drawing, its row's fee goes up by itself."""
    from apps.billing import services as billing

    def assign():
        with tenant_context(network.tenant):
            tariff = billing.tariff_create(
                name=f"Idle {network.tag}",
                definition={
                    "currency": network.tenant.currency,
                    "idle": {"price_per_hour": "36.00", "grace_minutes": 0, "step_seconds": 1},
                },
                effective_from=datetime(2026, 1, 1, tzinfo=UTC),
            )
            return billing.tariff_assign(tariff=tariff, station=network.station_a)

    def unassign(assignment):
        with tenant_context(network.tenant):
            billing.tariff_unassign(assignment=assignment)

    assignment = blocking(assign)
    try:
        email = blocking(lambda: make_valet(network))
        page = sign_in(network.host, email)
        page.goto(portal_url(network, portal_server, f"/valet/sites/{network.site_a.pk}/"))
        page.wait_for_selector("#live-indicator.live", timeout=10_000)
        page.evaluate("window.__sameDocument = true")
        holder = {}

        async def charge_then_finish():
            async with Connected(
                portal_server.ws, network.station_a.identity, network.password_a, "1.6"
            ) as cp:
                await cp.call(
                    call16.BootNotification(charge_point_vendor="V", charge_point_model="M")
                )
                started = await cp.call(
                    call16.StartTransaction(
                        connector_id=1, id_tag=network.token, meter_start=0, timestamp=now_iso()
                    )
                )
                holder["tx"] = started.transaction_id
                for status in ("Charging", "SuspendedEV"):
                    await cp.call(
                        call16.StatusNotification(
                            connector_id=1, error_code="NoError", status=status, timestamp=now_iso()
                        )
                    )

        loop.run(charge_then_finish())
        fee = page.locator(f'tr[data-session="{holder["tx"]}"] td.idle-fee')
        fee.wait_for(timeout=15_000)
        assert "(accruing)" in fee.inner_text()
        first = _amount(fee.inner_text())
        page.wait_for_function(
            "([selector, first]) => {"
            " const cell = document.querySelector(selector);"
            " return cell && parseFloat(cell.textContent.replace(',', '.')) >= first + 0.02; }",
            arg=[f'tr[data-session="{holder["tx"]}"] td.idle-fee', float(first)],
            timeout=15_000,
        )
        assert page.evaluate("window.__sameDocument") is True  # updated in place
        fee.locator("xpath=..").get_by_role("button", name="Moved").click()
        page.wait_for_load_state()
        assert page_errors(page) == []
    finally:
        blocking(lambda: unassign(assignment))


def _amount(text: str):
    from decimal import Decimal

    return Decimal(text.split()[0].replace(",", "."))
