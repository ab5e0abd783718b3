"""Issue 12, item 4: transaction integrity on reconnect (OCPP 2.0.1 E, offline behaviour).

A station replays its offline queue after a reconnect; events can come reordered, and some
may be lost.  seqNo numbers a transaction's events from the Started one: when a hole
appears below the highest seqNo, the CSMS asks GetTransactionStatus(transactionId).
messagesInQueue=true: the station still has them (nothing lost yet); false: what is still
missing is recorded as lost, and a transaction the station says is over (ongoingIndicator
false) whose Ended event was lost is ended at its last event."""

from __future__ import annotations

import asyncio
import datetime as dt

from ocpp.routing import on
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from websockets.asyncio.client import connect

from apps.charging.models import ChargingSession
from apps.ocpp.models import StationEvent, TransactionSequence
from tests.live import basic_auth, wait_until
from tests.ocpp.clients import Client201, in_db

T0 = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)


class QueueingStation(Client201):
    """Answers GetTransactionStatus from a script (what is still in its offline queue)."""

    status: list[dict] = []

    @on("GetTransactionStatus")
    def transaction_status(self, **kw):
        self.record("GetTransactionStatus", kw)
        return result201.GetTransactionStatus(**self.status.pop(0))


def iso(minutes: float) -> str:
    return (T0 + dt.timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def event(kind: str, seq: int, tx: str, minutes: float, wh: int, **extra):
    return call201.TransactionEvent(
        event_type=kind,
        timestamp=iso(minutes),
        trigger_reason="MeterValuePeriodic" if kind == "Updated" else "Authorized",
        seq_no=seq,
        transaction_info={"transaction_id": tx, **extra},
        evse={"id": 1, "connector_id": 1},
        offline=True,
        meter_value=[
            {
                "timestamp": iso(minutes),
                "sampled_value": [
                    {
                        "value": wh,
                        "measurand": "Energy.Active.Import.Register",
                        "unit_of_measure": {"unit": "Wh"},
                    }
                ],
            }
        ],
    )


async def test_201_seq_no_gaps_are_asked_about_and_reconciled(server, make_station, live_alpha):
    station, identity, password = make_station()
    async with connect(
        f"{server.ws}/ocpp/{identity}",
        subprotocols=["ocpp2.0.1"],
        additional_headers={"Authorization": basic_auth(identity, password)},
    ) as ws:
        cp = QueueingStation(identity, ws)
        task = asyncio.create_task(cp.start())
        try:
            await cp.call(
                call201.BootNotification(
                    charging_station={"vendor_name": "ACME", "model": "Q"}, reason="PowerUp"
                ),
                suppress=False,
            )
            # Transaction A: the queue is replayed reordered (0, 1, 4, 3, 5): 2 was lost.
            cp.status = [
                {"ongoing_indicator": True, "messages_in_queue": True},  # at 4: still queued
                {"ongoing_indicator": False, "messages_in_queue": False},  # at Ended: lost
            ]
            await cp.call(event("Started", 0, "TX-A", 0, 1000), suppress=False)
            await cp.call(event("Updated", 1, "TX-A", 5, 1500), suppress=False)
            await cp.call(event("Updated", 4, "TX-A", 20, 3000), suppress=False)
            await wait_until(lambda: len(cp.received) == 1)
            assert cp.received == [("GetTransactionStatus", {"transaction_id": "TX-A"})]
            await cp.call(event("Updated", 3, "TX-A", 15, 2500), suppress=False)
            await asyncio.sleep(0.3)
            assert len(cp.received) == 1  # the hole is the same: not asked again
            await cp.call(
                event("Ended", 5, "TX-A", 25, 3500, stopped_reason="EVDisconnected"),
                suppress=False,
            )
            await wait_until(lambda: len(cp.received) == 2)

            # Transaction B: 0 then 2 (1 lost) and the Ended event lost too.
            cp.status = [{"ongoing_indicator": False, "messages_in_queue": False}]
            await cp.call(event("Started", 0, "TX-B", 30, 5000), suppress=False)
            await cp.call(event("Updated", 2, "TX-B", 40, 6000), suppress=False)
            await wait_until(lambda: len(cp.received) == 3)
            assert cp.received[2] == ("GetTransactionStatus", {"transaction_id": "TX-B"})

            def outcome():
                events = list(
                    StationEvent.objects.filter(
                        station_id=station.pk, action="GetTransactionStatus"
                    )
                    .order_by("id")
                    .values_list("status", "data__transactionId", "data__missing")
                )
                sequences = dict(
                    TransactionSequence.objects.filter(station_id=station.pk).values_list(
                        "transaction_id", "lost"
                    )
                )
                sessions = {
                    s.transaction_id: (s.status, s.stop_reason, s.ended_at)
                    for s in ChargingSession.objects.filter(station_id=station.pk)
                }
                return events, sequences, sessions

            async def reconciled():
                result = await in_db(live_alpha, outcome)
                return result if len(result[0]) == 3 else None

            events, sequences, sessions = await wait_until(reconciled)
        finally:
            task.cancel()
    assert events == [
        ("SeqNoGapQueued", "TX-A", [2, 3]),
        ("SeqNoMissing", "TX-A", [2]),
        ("SeqNoMissing", "TX-B", [1]),
    ]
    assert sequences == {"TX-A": [2], "TX-B": [1]}
    assert sessions["TX-A"][:2] == ("completed", "EVDisconnected")
    # B's Ended event was lost: ended at its last event by the reconciliation
    assert sessions["TX-B"] == ("completed", "EventsLost", T0 + dt.timedelta(minutes=40))
