"""Access control in a real browser: an owner writes a scheduled rule with the schedule rows,
asks the why-refused tool about a card, and the pages fit a phone (375 px) without sideways
scrolling or script errors."""

from __future__ import annotations

import pytest

from tests.browser.conftest import page_errors, portal_url

pytestmark = pytest.mark.slow


def fits(page, width: int) -> bool:
    """The page's own content fits (tables scroll inside their box); the shared header is
    the base layout's business, not measured here (as in tests/reports/test_browser.py)."""
    widest = page.evaluate(
        "Math.max(...Array.from(document.querySelectorAll("
        "'main > *, main .card, main form, main .scroll-x, main input, main select'))"
        ".map(e => e.getBoundingClientRect().right))"
    )
    return widest <= width


def test_a_scheduled_rule_and_why_a_card_is_refused(network, portal_server, sign_in):
    page = sign_in(network.host, "owner@alpha.test")
    page.goto(portal_url(network, portal_server, f"/access/rules/new/?site={network.site_a.pk}"))
    page.fill("#id_name", f"Night public {network.tag}")
    page.select_option("#id_kind", "public")
    # Saturday 22:00 to 06:00 (past midnight), Montréal time
    page.check("#id_w-0-days_5")
    page.fill("#id_w-0-start", "22:00")
    page.fill("#id_w-0-end", "06:00")
    page.click("form.rule-form button[type=submit]")
    page.wait_for_url("**/access/rules/*/")
    assert "Saturday 22:00–06:00" in page.inner_text("main")

    page.goto(portal_url(network, portal_server, "/access/why/"))
    page.fill("#id_token", network.token)
    page.select_option("#id_station", str(network.station_a.pk))
    page.fill("#id_at", "2026-05-09T23:30")  # a Saturday night: admitted
    page.click("form.explain-form button[type=submit]")
    assert page.get_attribute(".explanation", "data-answer") == "Accepted"
    page.fill("#id_at", "2026-05-10T06:30")  # Sunday morning, after the window: refused
    page.click("form.explain-form button[type=submit]")
    assert page.get_attribute(".explanation", "data-answer") == "NotAtThisTime"
    assert "not in force now" in page.inner_text(".explanation")

    page.set_viewport_size({"width": 375, "height": 800})
    for path in ("/access/why/", "/access/", "/access/groups/", "/access/holidays/"):
        page.goto(portal_url(network, portal_server, path))
        assert fits(page, 375), path
    page.goto(portal_url(network, portal_server, f"/access/rules/new/?site={network.site_a.pk}"))
    assert fits(page, 375)
    assert page_errors(page) == []
