"""Chart axes and legends in the site's time zone and the reader's language (issue 13,
"Times"): uPlot alone writes the browser's zone in US style ("12/8", "1:30pm")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from tests.browser.conftest import page_errors, portal_url
from tests.live import blocking

pytestmark = pytest.mark.slow

LABELS = "(args) => window.ChargegridLive.axisLabels(args[0], args[1], args[2], args[3])"
MOMENT = "(args) => window.ChargegridLive.momentLabel(args[0], args[1], args[2])"
# 2026-12-08 03:00 UTC = 22:00 on the 7th in Montréal; ticks an hour apart cross midnight there.
SPLITS = [1_796_698_800, 1_796_702_400, 1_796_706_000]


def test_hour_ticks_name_the_day_where_it_changes(network, portal_server, sign_in):
    page = sign_in(network.host, "owner@alpha.test")
    labels = page.evaluate(LABELS, [SPLITS, "fr", "America/Montreal", 3600])
    assert labels == ["22:00\n7 déc.", "23:00", "00:00\n8 déc."]
    labels = page.evaluate(LABELS, [SPLITS, "en", "America/Montreal", 3600])
    assert labels[0].endswith("\nDec 7") and labels[2].endswith("\nDec 8")
    # In Tokyo the same moments are all on the 8th: one date, on the first tick.
    labels = page.evaluate(LABELS, [SPLITS, "fr", "Asia/Tokyo", 3600])
    assert labels == ["12:00\n8 déc.", "13:00", "14:00"]
    assert page.evaluate(MOMENT, [SPLITS[0], "fr", "America/Montreal"]) == "7 déc. 2026, 22:00"
    # An unknown zone does not break the page: the reader's language in UTC.
    assert page.evaluate(MOMENT, [SPLITS[0], "fr", "Mars/Olympus"]) == "8 déc. 2026, 03:00"


def _session_and_node(network):
    from apps.charging.metering import POWER
    from apps.charging.models import ChargingSession, MeterValue
    from apps.power.models import NodeInterval, PowerNode

    with tenant_context(network.tenant):
        station = network.station_a
        evse = station.evses.order_by("evse_id").first()
        start = timezone.now() - dt.timedelta(hours=2)
        session = ChargingSession.objects.create(
            station=station,
            evse=evse,
            transaction_id=f"chart-{network.tag}",
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
        node = PowerNode.objects.create(site=network.site_a, name=f"Chart panel {network.tag}")
        first = timezone.now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=6)
        for index in range(24):
            NodeInterval.objects.create(
                node=node,
                start=first + dt.timedelta(minutes=15 * index),
                samples=1,
                drawn_w_sum=5000 + 100 * index,
                drawn_w_max=6000,
                allocated_w_sum=7000,
                limit_w=9000,
            )
        return session.pk, node.pk


def _legend_after_hover(page, box_selector: str) -> str:
    canvas = page.locator(f"{box_selector} .u-over")
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    return page.locator(f"{box_selector} .u-legend .u-series").first.inner_text()


def test_charts_read_in_french_and_the_sites_zone(network, portal_server, sign_in):
    session_id, node_id = blocking(lambda: _session_and_node(network))
    page = sign_in(network.host, "owner@alpha.test")
    page.context.add_cookies(
        [
            {
                "name": settings.LANGUAGE_COOKIE_NAME,
                "value": "fr",
                "url": portal_url(network, portal_server, "/"),
            }
        ]
    )
    page.goto(portal_url(network, portal_server, f"/sessions/{session_id}/"))
    page.wait_for_selector(".power-chart .uplot canvas")
    legend = _legend_after_hover(page, ".power-chart")
    assert "déc." in legend or "nov." in legend, legend
    assert "AM" not in legend.upper() and "PM" not in legend.upper(), legend

    page.goto(portal_url(network, portal_server, f"/power/nodes/{node_id}/"))
    page.wait_for_selector("#power-history-chart[data-drawn='1'] .uplot canvas")
    legend = _legend_after_hover(page, "#power-history-chart")
    assert "2026" in legend or "2027" in legend, legend
    assert "AM" not in legend.upper() and "PM" not in legend.upper(), legend
    assert page_errors(page) == []
