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
    """Answers GetTransactionStatus with what the test says is still in its offline queue."""

    queued = False
    ongoing = True

    @on("GetTransactionStatus")
    def transaction_status(self, **kw):
        self.record("GetTransactionStatus", kw)
        return result201.GetTransactionStatus(
            messages_in_queue=self.queued, ongoing_indicator=self.ongoing
        )


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
            cp.queued, cp.ongoing = True, True  # at 4: the rest is still queued
            await cp.call(event("Started", 0, "TX-A", 0, 1000), suppress=False)
            await cp.call(event("Updated", 1, "TX-A", 5, 1500), suppress=False)
            await cp.call(event("Updated", 4, "TX-A", 20, 3000), suppress=False)
            await wait_until(lambda: len(cp.received) == 1)
            assert cp.received == [("GetTransactionStatus", {"transaction_id": "TX-A"})]
            await cp.call(event("Updated", 3, "TX-A", 15, 2500), suppress=False)
            await asyncio.sleep(0.3)
            assert len(cp.received) == 1  # the hole is the same: not asked again
            cp.queued, cp.ongoing = False, False  # at Ended: 2 is lost
            await cp.call(
                event("Ended", 5, "TX-A", 25, 3500, stopped_reason="EVDisconnected"),
                suppress=False,
            )
            await wait_until(lambda: len(cp.received) >= 2)

            # Transaction B: 0 then 2 (1 lost) and the Ended event lost too.
            await cp.call(event("Started", 0, "TX-B", 30, 5000), suppress=False)
            await cp.call(event("Updated", 2, "TX-B", 40, 6000), suppress=False)
            await wait_until(
                lambda: ("GetTransactionStatus", {"transaction_id": "TX-B"}) in cp.received
            )

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
                return result if ("SeqNoMissing", "TX-B", [1]) in result[0] else None

            events, sequences, sessions = await wait_until(reconciled)
        finally:
            task.cancel()
    a_events = [e for e in events if e[1] == "TX-A"]
    assert a_events[0] == ("SeqNoGapQueued", "TX-A", [2, 3])
    assert [e for e in a_events if e[0] == "SeqNoMissing"] == [("SeqNoMissing", "TX-A", [2])]
    assert [e for e in events if e[1] == "TX-B"] == [("SeqNoMissing", "TX-B", [1])]
    assert sequences == {"TX-A": [2], "TX-B": [1]}
    assert sessions["TX-A"][:2] == ("completed", "EVDisconnected")
    # B's Ended event was lost: ended at its last event by the reconciliation
    assert sessions["TX-B"] == ("completed", "EventsLost", T0 + dt.timedelta(minutes=40))


async def test_201_simulator_losing_and_reordering_its_offline_queue(
    server, make_station, make_token, live_alpha
):
    """The simulator loses the network mid-session, queues two meter updates and the Ended
    event, loses one and replays the others reordered (Ended first) on reconnect."""
    from apps.simulator.clock import SystemClock
    from apps.simulator.physics import Vehicle
    from apps.simulator.station import SimulatedStation, StationConfig

    station_row, identity, password = make_station(evses=1)
    token = make_token()
    station = SimulatedStation(
        StationConfig(
            identity=identity,
            url=f"{server.ws}/ocpp/",
            password=password,
            version="2.0.1",
            reboot_delay=0,
            transfer_seconds=0,
            response_timeout=10,
            reconnect_delay=0.05,
        ),
        SystemClock(),
    )
    try:
        assert await station.connect() == "Accepted"
        await station.plug_in(1, Vehicle(battery_kwh=60, soc=20))
        await station.start_session(1, token.uid)
        tx = station.transaction(1).transaction_id
        await station.drop_connection()
        await station.wait_until(lambda: not station.connected)
        await station.send_meter_values(1)
        await station.send_meter_values(1)
        await station.stop_session(1)
        queued = len(station.queue)
        assert queued >= 3
        # seqNos 1..queued; the second (seqNo 2) is lost; Ended goes first
        last = queued - 1
        assert station.queue_fault(lose={1}, order=[last, *range(last)]) == 1
        assert await station.connect() == "Accepted"
        await station.wait_until(lambda: not station.queue, timeout=20)

        def outcome():
            # ``lost`` first: the event and the session's end are written in the same
            # transaction, so once it shows they do too (read the other way round, a commit
            # between the reads showed ``lost`` without its event)
            lost = (
                TransactionSequence.objects.filter(station_id=station_row.pk, transaction_id=tx)
                .values_list("lost", flat=True)
                .first()
            )
            events = list(
                StationEvent.objects.filter(
                    station_id=station_row.pk, action="GetTransactionStatus"
                )
                .order_by("id")
                .values_list("status", "data__missing")
            )
            session = ChargingSession.objects.get(station_id=station_row.pk, transaction_id=tx)
            return events, lost, session.status

        async def reconciled():
            result = await in_db(live_alpha, outcome)
            return result if result[1] else None

        events, lost, status = await wait_until(reconciled, timeout=30)
    finally:
        await station.close()
    assert lost == [2]
    assert events[0][0] == "SeqNoGapQueued"  # at Ended: the rest was still in its queue
    assert ("SeqNoMissing", [2]) in events
    assert status == "completed"
