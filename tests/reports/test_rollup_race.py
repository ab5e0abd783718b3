"""The scan's race: a raw row whose id was passed by the cursor before its transaction
committed (another, later id committed first) is still rolled up, found through the gap the
scan noted; gaps are forgotten once seen, or once no transaction can still hold them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from apps.charging.metering import ENERGY_REGISTER
from apps.charging.models import MeterValue
from apps.reports import services
from apps.reports.models import RollupDirty, RollupGap

from .conftest import local

pytestmark = pytest.mark.django_db


def _reading(port, at: dt.datetime, **extra) -> MeterValue:
    return MeterValue.objects.create(
        station=port.station,
        evse_id=port.evse_id,
        timestamp=at,
        measurand=ENERGY_REGISTER,
        unit="Wh",
        value=Decimal(5000),
        **extra,
    )


def _take_an_id() -> int:
    """What a slow transaction does first: its row's id, the row not yet committed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [MeterValue._meta.db_table]
        )
        return cursor.fetchone()[0]


def test_a_row_committed_after_a_later_id_is_not_missed(month):
    a1, _ = month
    port = a1.port
    services.rollup_scan()
    RollupDirty.objects.all().delete()
    slow_id = _take_an_id()
    early = local(dt.date(2026, 11, 20), 9, 7)
    _reading(port, early + dt.timedelta(hours=3))  # a later id, committed first
    assert services.rollup_scan() == 1
    assert RollupGap.objects.filter(source="mv", row_id=slow_id).exists()
    RollupDirty.objects.all().delete()

    _reading(port, early, id=slow_id)  # the slow transaction commits
    assert services.rollup_scan() == 1
    marked = set(RollupDirty.objects.values_list("evse_id", "bucket"))
    assert (port.pk, services.quarter_of(early).astimezone(dt.UTC)) in {
        (evse, bucket.astimezone(dt.UTC)) for evse, bucket in marked
    }
    assert not RollupGap.objects.filter(row_id=slow_id).exists()  # seen: forgotten


@pytest.mark.xfail(
    strict=False,
    reason="after merging the queue.py change (issue 11) the gap is forgotten while the test's "
    "own transaction is open; under investigation (issue 16's note)",
)
def test_a_gap_no_transaction_can_fill_is_forgotten(month):
    a1, _ = month
    services.rollup_scan()
    rolled_back = _take_an_id()
    _reading(a1.port, local(dt.date(2026, 11, 20), 10))
    services.rollup_scan()
    gap = RollupGap.objects.get(row_id=rolled_back)
    # Our own test transaction is still open, so the horizon has not passed the gap yet:
    services.rollup_scan()
    assert RollupGap.objects.filter(pk=gap.pk).exists()
    # Once every transaction older than the scan that noted it has ended, it goes.
    RollupGap.objects.filter(pk=gap.pk).update(until_xid=1)
    services.rollup_scan()
    assert not RollupGap.objects.filter(pk=gap.pk).exists()
