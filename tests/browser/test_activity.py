"""The dashboard's live activity says what changed, once: a station repeating its state (a
status reported port after port, or again) is one line, not three (issue 13, "States")."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from tests.browser.conftest import page_errors
from tests.live import blocking

pytestmark = pytest.mark.slow


def _publish(network, messages) -> None:
    from apps.core.live import publish_live
    from apps.dashboard.live import station_message

    with tenant_context(network.tenant):
        for kind in messages:
            if kind == "station":
                publish_live(station_message(network.station_a.pk))
            else:  # a session line: proves that everything before it has arrived
                publish_live(
                    {
                        "kind": "session",
                        "event": "started",
                        "session_id": 999_999_999,
                        "station_id": network.station_a.pk,
                        "site_id": network.site_a.pk,
                        "evse_id": 1,
                        "energy_wh": 0,
                    }
                )


def test_a_repeated_station_state_is_one_line(network, portal_server, sign_in):
    dashboard = sign_in(network.host, "owner@alpha.test")
    dashboard.wait_for_selector("#live-indicator.live", timeout=10_000)
    blocking(lambda: _publish(network, ["station", "station", "station", "session"]))
    dashboard.wait_for_function(
        "() => document.querySelectorAll('#activity li:not(.empty)').length >= 2"
    )
    lines = dashboard.locator("#activity li").all_inner_texts()
    station_lines = [line for line in lines if network.station_a.name in line]
    assert len(station_lines) == 1, lines
    assert page_errors(dashboard) == []


def test_chart_time_labels_follow_the_readers_language(network, portal_server, sign_in):
    """Chart axes are labelled by the page's language and the site's zone (uPlot alone
    writes "12/8" and "1:30pm" on a French page)."""
    page = sign_in(network.host, "owner@alpha.test")
    moment = 1_796_743_800  # 2026-12-08 15:30 UTC = 10:30 in Montréal
    label = "(args) => window.ChargegridLive.axisLabel(args[0], args[1], args[2], args[3])"
    assert page.evaluate(label, [moment, "fr", "America/Montreal", 3600]) == "10:30"
    assert page.evaluate(label, [moment, "fr", "America/Montreal", 86400]) == "8 déc."
    assert page.evaluate(label, [moment, "en", "America/Montreal", 86400]) == "Dec 8"
