"""Raw retention: meter values older than the tenant's retention are deleted once a rollup
holds them, never before; the rollups stay as they were and are not recomputed from what is
left."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from apps.charging.metering import ENERGY_REGISTER
from apps.charging.models import ChargingSession, MeterValue
from apps.reports import services
from apps.reports.models import (
    PortDayRollup,
    PortRollup,
    ReportSettings,
    RollupCursor,
    RollupDirty,
    RollupGap,
)
from apps.reports.tasks import raw_retention

from .conftest import charge, local

pytestmark = pytest.mark.django_db

NOW = local(dt.date(2026, 12, 2), 0)
CUTOFF = local(dt.date(2026, 11, 12), 0)  # 20 days before NOW


def _days() -> list[tuple]:
    return list(
        PortDayRollup.objects.order_by("evse_id", "day").values_list(
            "evse_id", "day", "energy_wh", "seconds_occupied", "sessions_ended", "peak_power_w"
        )
    )


def _reading(port, at, **extra) -> MeterValue:
    return MeterValue.objects.create(
        station=port.station,
        evse_id=port.evse_id,
        timestamp=at,
        measurand=ENERGY_REGISTER,
        unit="Wh",
        value=Decimal(1),
        **extra,
    )


def test_old_rolled_up_readings_go_and_the_rollups_stay(month):
    a1, a2 = month
    ReportSettings.objects.create(raw_retention_days=20)
    open_session = ChargingSession.objects.create(
        station=a2.station,
        evse=a2.port,
        transaction_id="open",
        started_at=CUTOFF - dt.timedelta(days=3),
    )
    of_open = _reading(a2.port, CUTOFF - dt.timedelta(days=2), session=open_session)
    unknown_port = MeterValue.objects.create(  # no Evse 2: no rollup holds it
        station=a1.station,
        evse_id=2,
        timestamp=CUTOFF - dt.timedelta(days=5),
        measurand=ENERGY_REGISTER,
        unit="Wh",
        value=Decimal(7),
    )
    services.rollup_mark_session(session_id=open_session.pk)  # as session.started does
    services.rollup_catch_up(now=NOW)
    before = _days()
    old = MeterValue.objects.filter(timestamp__lt=CUTOFF).count()

    deleted = services.raw_retention_run(now=NOW)

    left = set(MeterValue.objects.filter(timestamp__lt=CUTOFF).values_list("pk", flat=True))
    assert left == {of_open.pk, unknown_port.pk}
    assert deleted == old - 2
    assert MeterValue.objects.filter(timestamp__gte=CUTOFF).exists()  # the Nov 30 session
    assert RollupCursor.objects.get().raw_since == CUTOFF
    # The rollups hold the same numbers, and rebuilding the whole month does not recompute
    # the quarters whose raw readings are gone (they would lose their energy).
    services.rollup_catch_up(now=NOW)
    assert _days() == before
    services.rollup_rebuild(start=local(dt.date(2026, 10, 1), 0), end=NOW, now=NOW)
    assert _days() == before


def test_readings_no_rollup_holds_yet_are_kept(month, monkeypatch):
    """Unread by the scan, in a gap, in a marked quarter, in a quarter with no rollup row:
    each is kept (the catch-up that normally runs first is switched off to leave them so)."""
    a1, a2 = month
    ReportSettings.objects.create(raw_retention_days=20)
    services.rollup_catch_up(now=NOW)
    monkeypatch.setattr(services, "rollup_catch_up", lambda **kw: 0)
    oct_session, nov_session = ChargingSession.objects.filter(evse=a1.port).order_by("started_at")[
        :2
    ]
    readings = list(MeterValue.objects.filter(session=oct_session).order_by("timestamp"))
    in_gap, in_marked, in_unrolled = readings[0], readings[5], readings[10]
    RollupGap.objects.create(source="mv", row_id=in_gap.pk, holders=["1/1"])
    RollupDirty.objects.create(evse_id=a1.port.pk, bucket=services.quarter_of(in_marked.timestamp))
    PortRollup.objects.filter(
        evse=a1.port, bucket=services.quarter_of(in_unrolled.timestamp)
    ).delete()
    unread = charge(a2.port, local(dt.date(2026, 11, 8), 3), 30, 500, 99)  # after the scan
    unread_ids = set(MeterValue.objects.filter(session=unread).values_list("pk", flat=True))

    services.raw_retention_run(now=NOW)
    left = set(MeterValue.objects.filter(timestamp__lt=CUTOFF).values_list("pk", flat=True))
    held = {services.quarter_of(r.timestamp) for r in (in_marked, in_unrolled)}
    same_quarter = {r.pk for r in readings if services.quarter_of(r.timestamp) in held}
    assert len(same_quarter) == 6  # readings every 5 minutes: three a quarter
    assert left == {in_gap.pk} | same_quarter | unread_ids
    assert not MeterValue.objects.filter(session=nov_session).exists()


def test_the_beat_task_uses_the_tenants_retention(month):
    a1, _ = month
    ReportSettings.objects.create(raw_retention_days=7)
    stale = _reading(a1.port, local(dt.date(2026, 10, 1), 3))  # no session: power, a stray
    assert raw_retention() >= 1  # today's cutoff is past everything the fixture wrote
    assert not MeterValue.objects.filter(pk=stale.pk).exists()


def test_retention_is_at_least_a_week():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        ReportSettings(raw_retention_days=6).clean_fields()
