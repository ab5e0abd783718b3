"""The message log at the service level: no row can make another disappear.

A batch is one COPY; PostgreSQL refuses the whole of it for one NUL, one lone surrogate or
one NaN, and (at commit) for one row whose station is gone.  ``messagelog.write_log`` escapes
what it can and halves what still fails, so only the truly unstorable row is lost."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from decimal import Decimal

from django_tenants.utils import tenant_context

from apps.ocpp.messagelog import write_log
from apps.ocpp.models import MessageLog
from apps.stations.models import Station


def _row(station_id: int, unique_id: str, payload, direction: str = "in") -> dict:
    return {
        "station_id": station_id,
        "direction": direction,
        "message_type": 2,
        "unique_id": unique_id,
        "action": "DataTransfer",
        "payload": payload,
        "created_at": dt.datetime.now(dt.UTC),
    }


def test_one_unstorable_row_loses_only_itself(django_db_setup, live_alpha, make_station, caplog):
    station, _, _ = make_station()
    other, _, _ = make_station()
    with tenant_context(live_alpha):
        gone = Station.objects.create(identity="GONE-" + station.identity)
        gone_id = gone.pk
        gone.delete()  # frames still buffered for a station deleted meanwhile
        rows = [_row(station.pk, f"ok-{n}", {"vendorId": "V", "n": n}) for n in range(40)]
        rows[3] = _row(station.pk, "nul-id\x00", {"vendorId": "V"})
        rows[7] = _row(station.pk, "nul-payload", {"vendorId": "V\x00", "data": ["a\x00b"]})
        rows[11] = _row(station.pk, "surrogate\ud800", {"vendorId": "V\udfff"})
        rows[19] = _row(station.pk, "infinite", {"value": float("inf")})
        rows[23] = _row(station.pk, "key", {"k\ud83d": "lone high surrogate in a key"})
        rows[29] = _row(gone_id, "orphan", {"vendorId": "V"})
        rows.append(_row(other.pk, "other-station", {"fine": True}, direction="out"))

        with caplog.at_level(logging.ERROR, logger="apps.ocpp.messagelog"):
            stored = write_log(rows=rows)

        assert stored == len(rows) - 1  # only the orphan row is lost
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1 and "'orphan'" in errors[0], errors
        logged = {
            entry.unique_id: entry.payload
            for entry in MessageLog.objects.filter(station_id__in=[station.pk, other.pk])
        }
        assert len(logged) == len(rows) - 1
        for n in range(40):
            if n not in (3, 7, 11, 19, 23, 29):
                assert logged[f"ok-{n}"] == {"vendorId": "V", "n": n}
        assert logged["other-station"] == {"fine": True}
        # Escaped rows give back exactly what the station sent; the column shows escapes.
        for index in (3, 7, 11, 19, 23):
            original = rows[index]
            shown = json.dumps(original["unique_id"])[1:-1]
            restored = json.loads(logged[shown]["escaped"])
            assert restored == {"unique_id": original["unique_id"], "payload": original["payload"]}
        assert "nul-id\\u0000" in logged and "surrogate\\ud800" in logged
        # Clean rows are stored as they are, not escaped.
        assert "escaped" not in logged["ok-0"]


async def test_a_bad_report_in_a_meter_batch_costs_the_others_nothing(
    django_db_setup, live_alpha, make_station
):
    """The group commit on the real database: a report the database refuses (here an EVSE id
    that slipped past the checks) fails alone; the others of its batch are stored once."""
    from apps.charging.metering import Sample
    from apps.charging.models import MeterValue
    from apps.charging.services import MeterReport
    from apps.ocpp.groupcommit import GroupCommit, _write_meter_values
    from tests.ocpp.clients import in_db

    first, _, _ = make_station()
    second, _, _ = make_station()
    at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)

    def report(station, evse_id, wh):
        sample = Sample(at, "Energy.Active.Import.Register", Decimal(wh), "Wh")
        return MeterReport(station_id=station.pk, evse_id=evse_id, samples=[sample])

    batches = []

    def write(*, items):
        batches.append(len(items))
        return _write_meter_values(items=items)

    commit = GroupCommit(write, writers_per_tenant=1)
    results = await asyncio.gather(
        commit.submit(live_alpha, report(first, 1, 100)),
        commit.submit(live_alpha, report(second, -1, 200)),  # refused by a CHECK constraint
        commit.submit(live_alpha, report(second, 2, 300)),
        return_exceptions=True,
    )

    assert results[0] == 1 and results[2] == 1 and isinstance(results[1], RuntimeError)
    assert batches[0] > 1  # they were written together first
    stored = await in_db(
        live_alpha,
        lambda: sorted(
            MeterValue.objects.filter(station_id__in=[first.pk, second.pk]).values_list(
                "station_id", "evse_id", "value"
            )
        ),
    )
    assert stored == [(first.pk, 1, Decimal(100)), (second.pk, 2, Decimal(300))]
