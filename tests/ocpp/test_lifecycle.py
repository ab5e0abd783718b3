"""Whole sessions over real websockets, both versions, with the integrity rules."""

import datetime as dt

from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from apps.charging.models import ChargingSession, MeterValue
from apps.stations.models import Evse, StatusChange
from tests.ocpp.clients import Connected, in_db

T0 = dt.datetime(2026, 11, 20, 14, 0, tzinfo=dt.UTC)


def iso(minutes: float) -> str:
    return (T0 + dt.timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def register16(wh: int, minutes: float, **extra):
    sampled = [
        {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh", **extra}
    ]
    return [{"timestamp": iso(minutes), "sampledValue": sampled}]


async def test_16_session_life_cycle_is_exact_and_idempotent(
    server, make_station, make_token, live_alpha
):
    station, identity, password = make_station()
    token = make_token()
    async with Connected(server.ws, identity, password, "1.6") as cp:
        boot = await cp.call(
            call16.BootNotification(
                charge_point_vendor="ACME", charge_point_model="X1", firmware_version="1.2.3"
            ),
            suppress=False,
        )
        assert boot.status == "Accepted" and boot.interval > 0
        await cp.call(
            call16.StatusNotification(
                connector_id=1, error_code="NoError", status="Preparing", timestamp=iso(0)
            )
        )
        assert (await cp.call(call16.Authorize(id_tag=token.uid))).id_tag_info[
            "status"
        ] == "Accepted"
        assert (await cp.call(call16.Authorize(id_tag="NOT-A-CARD"))).id_tag_info[
            "status"
        ] == "Invalid"

        start = await cp.call(
            call16.StartTransaction(
                connector_id=1, id_tag=token.uid, meter_start=10_000, timestamp=iso(0)
            ),
            suppress=False,
        )
        tx = start.transaction_id
        assert isinstance(tx, int) and start.id_tag_info["status"] == "Accepted"
        # a resend (the answer was lost) gets the same transaction, not a second session
        again = await cp.call(
            call16.StartTransaction(
                connector_id=1, id_tag=token.uid, meter_start=10_000, timestamp=iso(0)
            )
        )
        assert again.transaction_id == tx

        for minute, wh in [(5, 10_600), (10, 11_200), (15, 11_800)]:
            await cp.call(
                call16.MeterValues(
                    connector_id=1, transaction_id=tx, meter_value=register16(wh, minute)
                )
            )
        # the same values again (offline queue replay after a reconnect): nothing new
        await cp.call(
            call16.MeterValues(
                connector_id=1, transaction_id=tx, meter_value=register16(11_200, 10)
            )
        )
        await cp.call(
            call16.StatusNotification(
                connector_id=1, error_code="NoError", status="Charging", timestamp=iso(1)
            )
        )

        stop = await cp.call(
            call16.StopTransaction(
                meter_stop=12_000,
                timestamp=iso(20),
                transaction_id=tx,
                reason="EVDisconnected",
                id_tag=token.uid,
            ),
            suppress=False,
        )
        assert stop.id_tag_info["status"] == "Accepted"
        # the stop resent: still one stop, same energy
        await cp.call(
            call16.StopTransaction(meter_stop=12_000, timestamp=iso(20), transaction_id=tx)
        )
        # a stop for a transaction nobody knows is answered, not an error
        unknown = await cp.call(
            call16.StopTransaction(meter_stop=5, timestamp=iso(21), transaction_id=987654321),
            suppress=False,
        )
        assert unknown is not None

    def check():
        sessions = list(ChargingSession.objects.filter(station=station))
        assert len(sessions) == 1
        session = sessions[0]
        assert session.transaction_id == str(tx)
        assert (session.meter_start_wh, session.meter_stop_wh, session.energy_wh) == (
            10_000,
            12_000,
            2_000,
        )
        assert session.status == "completed" and session.stop_reason == "EVDisconnected"
        assert session.started_at == T0 and session.ended_at == T0 + dt.timedelta(minutes=20)
        assert MeterValue.objects.filter(session=session).count() == 3
        evse = Evse.objects.get(station=station, evse_id=1)
        assert evse.status == "Charging"
        assert StatusChange.objects.filter(station=station, evse=evse).count() == 2
        station.refresh_from_db()
        assert (station.vendor, station.model, station.firmware_version) == ("ACME", "X1", "1.2.3")

    await in_db(live_alpha, check)


async def test_16_stop_without_id_tag_and_meter_values_without_transaction(
    server, make_station, make_token, live_alpha
):
    station, identity, password = make_station()
    token = make_token()
    async with Connected(server.ws, identity, password, "1.6") as cp:
        start = await cp.call(
            call16.StartTransaction(
                connector_id=2, id_tag=token.uid, meter_start=0, timestamp=iso(0)
            )
        )
        # no transactionId on MeterValues: attributed to the port's running session
        await cp.call(call16.MeterValues(connector_id=2, meter_value=register16(700, 3)))
        stop = await cp.call(
            call16.StopTransaction(
                meter_stop=1_500, timestamp=iso(6), transaction_id=start.transaction_id
            ),
            suppress=False,
        )
        assert stop.id_tag_info is None

    def check():
        session = ChargingSession.objects.get(station=station)
        assert session.energy_wh == 1_500 and session.meter_values.count() == 1

    await in_db(live_alpha, check)


async def test_16_reboot_mid_session_never_double_counts(
    server, make_station, make_token, live_alpha
):
    """The station reboots mid-session, reconnects and replays its queue; energy stays exact."""
    station, identity, password = make_station()
    token = make_token()
    async with Connected(server.ws, identity, password, "1.6") as cp:
        tx = (
            await cp.call(
                call16.StartTransaction(
                    connector_id=1, id_tag=token.uid, meter_start=500, timestamp=iso(0)
                )
            )
        ).transaction_id
        await cp.call(
            call16.MeterValues(connector_id=1, transaction_id=tx, meter_value=register16(900, 5))
        )
    async with Connected(server.ws, identity, password, "1.6") as cp:
        await cp.call(call16.BootNotification(charge_point_vendor="ACME", charge_point_model="X1"))
        # replay of what was sent before the reboot plus what was metered offline
        for minute, wh in [(5, 900), (10, 1_300), (15, 1_700)]:
            await cp.call(
                call16.MeterValues(
                    connector_id=1, transaction_id=tx, meter_value=register16(wh, minute)
                )
            )
        await cp.call(
            call16.StopTransaction(
                meter_stop=1_800, timestamp=iso(16), transaction_id=tx, reason="Reboot"
            )
        )

    def check():
        session = ChargingSession.objects.get(station=station)
        assert session.energy_wh == 1_300
        assert session.meter_values.count() == 3

    await in_db(live_alpha, check)


async def test_new_start_on_a_port_closes_the_forgotten_session(
    server, make_station, make_token, live_alpha
):
    station, identity, password = make_station()
    token = make_token()
    async with Connected(server.ws, identity, password, "1.6") as cp:
        first = (
            await cp.call(
                call16.StartTransaction(
                    connector_id=1, id_tag=token.uid, meter_start=0, timestamp=iso(0)
                )
            )
        ).transaction_id
        await cp.call(
            call16.MeterValues(connector_id=1, transaction_id=first, meter_value=register16(400, 4))
        )
        await cp.call(
            call16.StartTransaction(
                connector_id=1, id_tag=token.uid, meter_start=400, timestamp=iso(30)
            )
        )

    def check():
        old = ChargingSession.objects.get(station=station, transaction_id=str(first))
        assert old.status == "closed" and old.stop_reason == "Superseded" and old.energy_wh == 400
        assert ChargingSession.objects.filter(station=station, status="active").count() == 1

    await in_db(live_alpha, check)


def meter201(wh: int, minutes: float, context: str = "Sample.Periodic", kwh: bool = False):
    value = wh / 1000 if kwh else wh
    unit = {"unit": "kWh"} if kwh else {"unit": "Wh"}
    return [
        {
            "timestamp": iso(minutes),
            "sampledValue": [
                {
                    "value": value,
                    "measurand": "Energy.Active.Import.Register",
                    "context": context,
                    "unitOfMeasure": unit,
                },
                {
                    "value": 7_200,
                    "measurand": "Power.Active.Import",
                    "unitOfMeasure": {"unit": "W"},
                },
            ],
        }
    ]


async def test_201_transaction_events_in_and_out_of_order(
    server, make_station, make_token, live_alpha
):
    station, identity, password = make_station()
    token = make_token(token_type="ISO14443")
    tx = "TX-201-A"
    id_token = {"idToken": token.uid, "type": "ISO14443"}
    async with Connected(server.ws, identity, password, "2.0.1") as cp:
        boot = await cp.call(
            call201.BootNotification(
                charging_station={"model": "Z2", "vendor_name": "Volt", "firmware_version": "9.1"},
                reason="PowerUp",
            ),
            suppress=False,
        )
        assert boot.status == "Accepted"
        # Updated arrives first (offline queue order), then Started, then Ended (twice)
        await cp.call(
            call201.TransactionEvent(
                event_type="Updated",
                timestamp=iso(10),
                trigger_reason="MeterValuePeriodic",
                seq_no=1,
                transaction_info={"transactionId": tx, "chargingState": "Charging"},
                evse={"id": 1, "connectorId": 1},
                meter_value=meter201(3_000, 10, kwh=True),
            ),
            suppress=False,
        )
        started = await cp.call(
            call201.TransactionEvent(
                event_type="Started",
                timestamp=iso(0),
                trigger_reason="Authorized",
                seq_no=0,
                transaction_info={"transactionId": tx, "chargingState": "Charging"},
                id_token=id_token,
                evse={"id": 1, "connectorId": 1},
                meter_value=meter201(1_000, 0, "Transaction.Begin"),
            ),
            suppress=False,
        )
        assert started.id_token_info["status"] == "Accepted"
        for _ in range(2):
            await cp.call(
                call201.TransactionEvent(
                    event_type="Ended",
                    timestamp=iso(30),
                    trigger_reason="EVCommunicationLost",
                    seq_no=2,
                    transaction_info={
                        "transactionId": tx,
                        "stoppedReason": "EVDisconnected",
                        "chargingState": "Idle",
                    },
                    meter_value=meter201(6_500, 30, "Transaction.End"),
                ),
                suppress=False,
            )

    def check():
        session = ChargingSession.objects.get(station=station, transaction_id=tx)
        assert session.started_at == T0  # moved earlier by the late Started
        assert (session.meter_start_wh, session.meter_stop_wh, session.energy_wh) == (
            1_000,
            6_500,
            5_500,
        )
        assert session.status == "completed" and session.stop_reason == "EVDisconnected"
        assert session.id_token == token.uid
        assert session.meter_values.filter(measurand="Energy.Active.Import.Register").count() == 3
        assert (
            session.meter_values.get(
                timestamp=T0 + dt.timedelta(minutes=10), measurand="Energy.Active.Import.Register"
            ).value
            == 3000
        )

    await in_db(live_alpha, check)


async def test_notifications_are_recorded_as_station_events(server, make_station, live_alpha):
    from apps.ocpp.models import StationEvent

    station, identity, password = make_station()
    async with Connected(server.ws, identity, password, "1.6") as cp:
        await cp.call(call16.FirmwareStatusNotification(status="Downloading"), suppress=False)
        await cp.call(call16.DiagnosticsStatusNotification(status="Uploaded"), suppress=False)
        await cp.call(
            call16.SecurityEventNotification(
                type="SettingSystemTime", timestamp=iso(1), tech_info="ntp"
            ),
            suppress=False,
        )
        answer = await cp.call(
            call16.DataTransfer(vendor_id="com.vendor", message_id="x", data="y"), suppress=False
        )
        assert answer.status == "UnknownVendorId"
    rows = await in_db(
        live_alpha,
        lambda: list(
            StationEvent.objects.filter(station=station)
            .order_by("id")
            .values_list("action", "status")
        ),
    )
    assert rows == [
        ("FirmwareStatusNotification", "Downloading"),
        ("DiagnosticsStatusNotification", "Uploaded"),
        ("SecurityEventNotification", "SettingSystemTime"),
        ("DataTransfer", "UnknownVendorId"),
    ]
