"""The portal under its Content-Security-Policy, in a real browser: no page reports a violation,
and the parts that run scripts still work (live websocket updates, the map, htmx commands,
uPlot charts, Swagger UI, the language menu and confirmations that used to be inline)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from tests.browser.conftest import page_errors, portal_url, watch_errors
from tests.live import blocking

pytestmark = pytest.mark.slow

# Every violation the page reports (the browser also logs it to the console).
WATCH_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__csp.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


def watch_csp(page) -> list[str]:
    """Violations from the console, collected from now on (and the DOM events, per page)."""
    console: list[str] = []
    page.context.add_init_script(WATCH_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return console


def violations(page, console: list[str]) -> list[str]:
    return console + page.evaluate("window.__csp || []")


def _charged_session_and_node(network):
    from apps.charging.metering import POWER
    from apps.charging.models import ChargingSession, MeterValue
    from apps.power.models import PowerNode

    with tenant_context(network.tenant):
        station = network.station_a
        evse = station.evses.order_by("evse_id").first()
        start = timezone.now() - dt.timedelta(hours=2)
        session = ChargingSession.objects.create(
            station=station,
            evse=evse,
            transaction_id=f"csp-{network.tag}",
            id_token=network.token,
            status="completed",
            started_at=start,
            ended_at=start + dt.timedelta(hours=1),
            meter_start_wh=0,
            meter_stop_wh=7000,
            energy_wh=7000,
        )
        for minute in range(0, 60, 5):
            MeterValue.objects.create(
                station=station,
                evse_id=evse.evse_id,
                session=session,
                timestamp=start + dt.timedelta(minutes=minute),
                measurand=POWER,
                unit="W",
                value=Decimal(7000 + minute * 10),
            )
        node = PowerNode.objects.create(site=network.site_a, name=f"CSP panel {network.tag}")
        return session.pk, node.pk


def test_portal_pages_run_under_the_policy(network, portal_server, sign_in):
    session_id, node_id = blocking(lambda: _charged_session_and_node(network))
    page = sign_in(network.host, "owner@alpha.test")
    console = watch_csp(page)

    def visit(path: str) -> None:
        response = page.goto(portal_url(network, portal_server, path))
        assert response.status == 200, path
        assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]

    # The dashboard's live updates arrive over the websocket (connect-src 'self').
    visit("/dashboard/")
    page.wait_for_selector("#live-indicator.live", timeout=10_000)

    # The map draws its markers with Leaflet.
    visit("/dashboard/map/")
    page.wait_for_function(
        "() => window.chargegridMap && Object.keys(window.chargegridMap.markers()).length >= 2"
    )

    # The station page: live, and an htmx command (the station is offline: the answer says so).
    visit(f"/stations/{network.station_a.pk}/")
    page.wait_for_selector("#live-indicator.live", timeout=10_000)
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("form[data-command=reset] button[type=submit]")
    page.wait_for_selector("#command-result .outcome", timeout=15_000)

    # uPlot charts: a session's power curve.
    visit(f"/sessions/{session_id}/")
    page.wait_for_selector(".power-chart .uplot canvas")

    # Power pages (a <style> element with the nonce) and the node page.
    visit(f"/power/sites/{network.site_a.pk}/")
    assert page.locator(".power-tree").count() >= 1
    tree = page.locator(".power-tree").first
    assert tree.evaluate("(el) => getComputedStyle(el).listStyleType") == "none"
    visit(f"/power/nodes/{node_id}/")

    # Other pages that carry forms and tables.
    for path in ("/people/", "/people/api-keys/", "/billing/tariffs/new/", "/alerts/"):
        visit(path)

    # Swagger UI: its start-up script is a file of its own now, and it draws the operations.
    visit("/api/v1/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)

    assert violations(page, console) == []
    assert page_errors(page) == []


def test_the_language_menu_and_confirmations_work_without_inline_handlers(
    network, portal_server, sign_in
):
    page = sign_in(network.host, "owner@alpha.test")
    console = watch_csp(page)
    page.goto(portal_url(network, portal_server, "/people/"))
    # Revoking asks first (data-confirm, bound by portal.js); dismissed, nothing happens.
    asked: list[str] = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    revoke = page.locator("form[data-confirm] button[type=submit]").first
    before = page.locator("form[data-confirm]").count()
    revoke.click()
    page.wait_for_timeout(300)
    assert asked and "Revoke the role" in asked[0]
    assert page.url.endswith("/people/") and page.locator("form[data-confirm]").count() == before

    # The language menu applies the choice at once.
    with page.expect_navigation():
        page.select_option("form.lang select[name=language]", "fr")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert "Personnes et rôles" in page.content()
    with page.expect_navigation():
        page.select_option("form.lang select[name=language]", "en")
    assert violations(page, console) == []
    assert page_errors(page) == []


def test_sign_in_and_password_reset_pages_run_under_the_policy(browser, network, portal_server):
    context = browser.new_context(locale="en")
    try:
        page = context.new_page()
        watch_errors(page)
        console = watch_csp(page)
        for path in ("/accounts/login/", "/accounts/password-reset/"):
            response = page.goto(portal_url(network, portal_server, path))
            assert response.status == 200
            assert "content-security-policy" in response.headers
        page.fill("#id_email", "nobody@alpha.test")
        with page.expect_navigation():
            page.click("#password-reset-form button[type=submit]")
        assert page.url.endswith("/accounts/password-reset/sent/")
        assert violations(page, console) == []
        assert page_errors(page) == []
    finally:
        context.close()
