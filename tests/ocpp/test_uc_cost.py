"""Issue 12, item 1: tariff and cost (OCPP 2.0.1 I02 running cost, I03 final cost).

I02: while a transaction runs, the CSMS sends CostUpdatedRequest(totalCost, transactionId)
with the running total.  I03: the CSMS answers the TransactionEventRequest(eventType=Ended)
with totalCost (and may set updatedPersonalMessage): the amount on the receipt, in the
tenant's currency, as the billing engine computes it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from ocpp.routing import on
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from websockets.asyncio.client import connect

from apps.billing import services as billing
from apps.billing.models import SessionCost
from apps.billing.services.costs import cost_updates_due, session_cost_update_send
from apps.charging.models import ChargingSession
from apps.charging.services import token_create
from apps.stations.services import site_create, station_register
from tests.live import basic_auth, unique_identity
from tests.ocpp.clients import Client201, in_db


class CostClient(Client201):
    @on("CostUpdated")
    def cost_updated(self, total_cost, transaction_id, **kw):
        self.record("CostUpdated", {"total_cost": total_cost, "transaction_id": transaction_id})
        return result201.CostUpdated()


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def energy(wh: int, moment: dt.datetime) -> list[dict]:
    return [
        {
            "timestamp": iso(moment),
            "sampled_value": [
                {
                    "value": wh,
                    "measurand": "Energy.Active.Import.Register",
                    "unit_of_measure": {"unit": "Wh"},
                }
            ],
        }
    ]


async def test_201_running_cost_and_final_total_cost_are_the_receipts(server, live_alpha):
    identity = unique_identity("C1")
    password = "pw-" + identity.lower() + "-0123456789"
    uid = unique_identity("TAG")[:20]

    def setup():
        site = site_create(name=f"Cost {identity}")
        tariff = billing.tariff_create(
            name=f"Energy {identity}",
            definition={"currency": live_alpha.currency, "energy": [{"price_per_kwh": "0.25"}]},
            effective_from=timezone.now() - dt.timedelta(days=1),
        )
        billing.tariff_assign(tariff=tariff, site=site)
        token_create(uid=uid)
        return station_register(identity=identity, password=password, site=site)

    await in_db(live_alpha, setup)
    t0 = timezone.now() - dt.timedelta(minutes=30)
    async with connect(
        f"{server.ws}/ocpp/{identity}",
        subprotocols=["ocpp2.0.1"],
        additional_headers={"Authorization": basic_auth(identity, password)},
    ) as ws:
        import asyncio

        cp = CostClient(identity, ws)
        task = asyncio.create_task(cp.start())
        try:
            boot = await cp.call(
                call201.BootNotification(
                    charging_station={"vendor_name": "ACME", "model": "C"}, reason="PowerUp"
                ),
                suppress=False,
            )
            assert boot.status == "Accepted"
            tx = {"transaction_id": "TX-" + identity, "charging_state": "Charging"}
            await cp.call(
                call201.TransactionEvent(
                    event_type="Started",
                    timestamp=iso(t0),
                    trigger_reason="Authorized",
                    seq_no=0,
                    transaction_info=tx,
                    evse={"id": 1, "connector_id": 1},
                    id_token={"id_token": uid, "type": "ISO14443"},
                    meter_value=energy(10_000, t0),
                ),
                suppress=False,
            )
            await cp.call(
                call201.TransactionEvent(
                    event_type="Updated",
                    timestamp=iso(t0 + dt.timedelta(minutes=20)),
                    trigger_reason="MeterValuePeriodic",
                    seq_no=1,
                    transaction_info=tx,
                    meter_value=energy(12_000, t0 + dt.timedelta(minutes=20)),
                ),
                suppress=False,
            )

            # I02: the running total (2 kWh at 0.25) goes to the station ...
            def send_running():
                session = ChargingSession.objects.get(transaction_id=tx["transaction_id"])
                assert session.pk in cost_updates_due()
                outcome = session_cost_update_send(session_id=session.pk)
                return outcome, session.pk, cost_updates_due()

            outcome, session_id, due_after = await in_db(live_alpha, send_running)
            assert outcome == "sent"
            assert cp.received[-1] == (
                "CostUpdated",
                {"total_cost": 0.5, "transaction_id": tx["transaction_id"]},
            )
            assert session_id not in due_after  # ... and again only after the interval

            # I03: the Ended event is answered with the receipt's total
            ended = await cp.call(
                call201.TransactionEvent(
                    event_type="Ended",
                    timestamp=iso(t0 + dt.timedelta(minutes=30)),
                    trigger_reason="EVDeparted",
                    seq_no=2,
                    transaction_info={**tx, "stopped_reason": "EVDisconnected"},
                    meter_value=energy(14_000, t0 + dt.timedelta(minutes=30)),
                ),
                suppress=False,
            )
        finally:
            task.cancel()
    cost = await in_db(live_alpha, lambda: SessionCost.objects.get(session_id=session_id))
    assert cost.total == Decimal("1.00") and cost.currency == live_alpha.currency
    assert Decimal(str(ended.total_cost)) == cost.total
    assert cost.receipt_number in ended.updated_personal_message["content"]
