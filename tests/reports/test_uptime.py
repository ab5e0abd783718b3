"""The tenant's uptime definition (ReportSettings), against hand-computed cases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from apps.reports import selectors, services
from apps.reports.models import ReportSettings
from apps.reports.selectors import Measures, UptimeRule
from apps.roles.selectors import UserActor
from apps.stations.models import StatusChange

from .conftest import local

EXCLUDED, UP, DOWN = "excluded", "up", "down"


def _measures(rule: UptimeRule) -> Measures:
    # 10,000 s counted in all: 6,000 available, 1,000 charging, 500 faulted, 1,500 unavailable
    # (set by the operator), 1,000 offline.
    return Measures(
        seconds_available=6000,
        seconds_charging=1000,
        seconds_faulted=500,
        seconds_unavailable=1500,
        seconds_offline=1000,
        rule=rule,
    )


@pytest.mark.parametrize(
    ("unavailable", "offline", "expected"),
    [
        (EXCLUDED, DOWN, "82.4"),  # the default: 7,000 up of 8,500 counted
        (UP, DOWN, "85.0"),  # 8,500 of 10,000
        (DOWN, DOWN, "70.0"),  # 7,000 of 10,000
        (EXCLUDED, EXCLUDED, "93.3"),  # 7,000 of 7,500
        (UP, EXCLUDED, "94.4"),  # 8,500 of 9,000
    ],
)
def test_uptime_follows_the_definition(unavailable, offline, expected):
    assert _measures(UptimeRule(unavailable, offline)).uptime_percent == Decimal(expected)


def test_nothing_counted_has_no_uptime():
    only_maintenance = Measures(seconds_unavailable=900)
    assert only_maintenance.uptime_percent is None  # the default excludes it: 0 counted
    assert Measures(seconds_unavailable=900, rule=UptimeRule(UP)).uptime_percent == 100


@pytest.mark.django_db
def test_the_report_uses_the_tenants_definition(alpha, personas, month):
    a1, _ = month
    port, station = a1.port, a1.station
    for at, status in (
        (local(dt.date(2026, 11, 15), 0), "Unavailable"),  # a day of planned maintenance
        (local(dt.date(2026, 11, 16), 0), "Available"),
        (local(dt.date(2026, 11, 20), 6), "Faulted"),  # six hours broken
        (local(dt.date(2026, 11, 20), 12), "Available"),
    ):
        StatusChange.objects.create(station=station, evse=port, status=status, occurred_at=at)
    services.rollup_rebuild(
        start=local(dt.date(2026, 11, 1), 0),
        end=local(dt.date(2026, 12, 1), 0),
        evse_ids=[port.pk],
        now=local(dt.date(2026, 12, 2), 0),
    )

    def uptime() -> Decimal:
        report = selectors.report_build(
            actor=UserActor(personas.owner),
            start=dt.date(2026, 11, 1),
            end=dt.date(2026, 12, 1),
            site_ids=[a1.site.pk],
        )
        assert report.totals.seconds_total == (30 * 24 + 1) * 3600  # the 25-hour DST day
        assert report.totals.seconds_unavailable == 86_400
        assert report.totals.seconds_faulted == 21_600
        return report.totals.uptime_percent

    # Default (no settings saved): maintenance excluded, 2,487,600 up of 2,509,200 s.
    assert uptime() == Decimal("99.1")
    settings = ReportSettings.objects.create(uptime_unavailable=DOWN)
    assert uptime() == Decimal("95.8")  # 2,487,600 of 2,595,600
    settings.uptime_unavailable = UP
    settings.save()
    assert uptime() == Decimal("99.2")  # 2,574,000 of 2,595,600
