"""The scan's race: a raw row whose id was passed by the cursor before its transaction
committed (another, later id committed first) is still rolled up, found through the gap the
scan noted; gaps are forgotten once seen, or once no transaction can still hold them."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
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


_OWN_VXID = (
    "SELECT virtualxid FROM pg_locks WHERE locktype = 'virtualxid' AND granted "
    "AND pid = pg_backend_pid()"
)


@contextmanager
def _another_transaction_takes_an_id():
    """A second connection opens a transaction and takes the next id (no row, no commit), as an
    INSERT does between ``nextval`` and its first write; it rolls back on leaving."""
    other = connection.Database.connect(**connection.get_connection_params())
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id'))",
                [f"{connection.schema_name}.{MeterValue._meta.db_table}"],
            )
            taken = cursor.fetchone()[0]
            cursor.execute(_OWN_VXID)
            yield taken, cursor.fetchone()[0]
    finally:
        other.rollback()
        other.close()


def test_a_gap_is_looked_for_while_a_transaction_may_hold_it_then_forgotten(month):
    a1, _ = month
    services.rollup_scan()
    with _another_transaction_takes_an_id() as (held, holder):
        _reading(a1.port, local(dt.date(2026, 11, 20), 10))  # a later id, committed first
        services.rollup_scan()
        gap = RollupGap.objects.get(source="mv", row_id=held)
        assert holder in gap.holders
        # The other holders: this test's own transaction (in production the scan runs in its
        # own, ended by now) and whatever else runs on this shared server; keep only the one
        # this test controls.
        RollupGap.objects.filter(pk=gap.pk).update(holders=[holder])
        # The other holder is still running (it has no transaction id: a snapshot's xmin/xmax
        # horizon does not see it), so the gap stays, scan after scan.
        services.rollup_scan()
        services.rollup_scan()
        assert RollupGap.objects.filter(pk=gap.pk).exists()
    # Its transaction rolled back: the id will never be visible, the next scan forgets it.
    services.rollup_scan()
    assert not RollupGap.objects.filter(pk=gap.pk).exists()


def test_a_gap_held_by_the_scanning_transaction_itself_stays(month):
    """The noting transaction is running when it notes the gap, so it is one of the holders."""
    a1, _ = month
    services.rollup_scan()
    own = _take_an_id()
    _reading(a1.port, local(dt.date(2026, 11, 20), 11))
    services.rollup_scan()
    for _ in range(3):
        services.rollup_scan()
    assert RollupGap.objects.filter(source="mv", row_id=own).exists()
