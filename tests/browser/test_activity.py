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
