"""The simulator against a real OCPP central system, in 1.6J and 2.0.1 (no database)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from ocpp.exceptions import NotImplementedError as OcppNotImplemented
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from apps.simulator.physics import Vehicle
from apps.simulator.state import HandshakeRefused, SessionRefused
from apps.simulator.timeutil import format_time

# ---- version-neutral helpers ------------------------------------------------------------


def energy_of(meter_values: list[dict[str, Any]]) -> int:
    for meter_value in meter_values:
        for sample in meter_value["sampledValue"]:
            if sample.get("measurand", "Energy.Active.Import.Register") == (
                "Energy.Active.Import.Register"
            ):
                return int(float(sample["value"]))
    raise AssertionError(f"no energy register in {meter_values}")


def connector_statuses(csms, station, evse_id: int = 1) -> list[str]:
    if station.version == "1.6":
        return [
            p["status"]
            for p in csms.received(station.identity, "StatusNotification")
            if p["connectorId"] == evse_id
        ]
    return [
        p["connectorStatus"]
        for p in csms.received(station.identity, "StatusNotification")
        if p["evseId"] == evse_id
    ]


def events(csms, station) -> list[dict[str, Any]]:
    return csms.received(station.identity, "TransactionEvent")


async def set_profile(
    csms,
    station,
    *,
    evse_id: int,
    profile_id: int,
    purpose: str,
    limits: list[tuple[int, float]],
    stack_level: int = 0,
    unit: str = "A",
    duration: int | None = None,
    transaction_id: Any = None,
) -> str:
    """Send SetChargingProfile; ``purpose`` in 2.0.1 names (ChargingStationMaxProfile...)."""
    periods = [{"start_period": start, "limit": limit} for start, limit in limits]
    schedule: dict[str, Any] = {
        "charging_rate_unit": unit,
        "start_schedule": format_time(station.clock.now()),
        "charging_schedule_period": periods,
    }
    if duration is not None:
        schedule["duration"] = duration
    if station.version == "1.6":
        profile: dict[str, Any] = {
            "charging_profile_id": profile_id,
            "stack_level": stack_level,
            "charging_profile_purpose": {"ChargingStationMaxProfile": "ChargePointMaxProfile"}.get(
                purpose, purpose
            ),
            "charging_profile_kind": "Absolute",
            "charging_schedule": schedule,
        }
        if transaction_id is not None:
            profile["transaction_id"] = transaction_id
        payload: Any = call16.SetChargingProfile(connector_id=evse_id, cs_charging_profiles=profile)
    else:
        profile = {
            "id": profile_id,
            "stack_level": stack_level,
            "charging_profile_purpose": purpose,
            "charging_profile_kind": "Absolute",
            "charging_schedule": [{"id": 1, **schedule}],
        }
        if transaction_id is not None:
            profile["transaction_id"] = transaction_id
        payload = call201.SetChargingProfile(evse_id=evse_id, charging_profile=profile)
    result = await csms.send(station.identity, payload)
    return result.status


async def composite(csms, station, evse_id: int, duration: int, unit: str = "A") -> list:
    if station.version == "1.6":
        result = await csms.send(
            station.identity,
            call16.GetCompositeSchedule(
                connector_id=evse_id, duration=duration, charging_rate_unit=unit
            ),
        )
        schedule = result.charging_schedule
    else:
        result = await csms.send(
            station.identity,
            call201.GetCompositeSchedule(
                duration=duration, evse_id=evse_id, charging_rate_unit=unit
            ),
        )
        schedule = result.schedule
    assert result.status == "Accepted"
    assert schedule["charging_rate_unit"] == unit
    return [(p["start_period"], p["limit"]) for p in schedule["charging_schedule_period"]]


async def charging(make_station, version: str, **config) -> Any:
    """A connected station with a session running on EVSE 1."""
    station = make_station(version, **config)
    await station.connect()
    await station.plug_in(1, Vehicle(battery_kwh=200, soc=10))
    await station.start_session(1, "TAG1")
    return station


# ---- boot and connection ----------------------------------------------------------------


async def test_boot_reports_the_station_and_every_connector(make_station, csms, version):
    station = make_station(version, evse_count=2, firmware_version="1.2.3")
    assert await station.connect() == "Accepted"
    assert station.online
    boot = csms.received(station.identity, "BootNotification")[0]
    if version == "1.6":
        assert boot["firmwareVersion"] == "1.2.3"
        assert [
            p["connectorId"] for p in csms.received(station.identity, "StatusNotification")
        ] == [
            0,
            1,
            2,
        ]
    else:
        assert boot["chargingStation"]["firmwareVersion"] == "1.2.3"
        assert boot["reason"] == "PowerUp"
    assert connector_statuses(csms, station, 2) == ["Available"]


async def test_the_csms_refuses_a_wrong_password_or_an_unknown_station(make_station, version):
    with pytest.raises(HandshakeRefused) as refused:
        await make_station(version, password="wrong").connect()
    assert refused.value.status_code == 401
    with pytest.raises(HandshakeRefused) as refused:
        await make_station(version, identity="UNKNOWN-9").connect()
    assert refused.value.status_code == 404


async def test_a_pending_station_boots_again_until_accepted(make_station, csms, clock, version):
    csms.boot_status, csms.interval = "Pending", 30
    station = make_station(version)
    assert await station.connect() == "Pending"
    assert not station.online
    assert csms.received(station.identity, "StatusNotification") == []
    csms.boot_status = "Accepted"
    clock.advance(30)
    await station.wait_until(lambda: connector_statuses(csms, station) == ["Available"])
    assert station.online
    assert len(csms.received(station.identity, "BootNotification")) == 2
    assert connector_statuses(csms, station) == ["Available"]


async def test_the_station_reconnects_by_itself_after_a_drop(make_station, csms, version):
    station = make_station(version, auto_reconnect=True)
    await station.connect()
    csms.drop(station.identity)
    await station.wait_until(lambda: station.boot_count == 2 and station.online)
    assert len(csms.received(station.identity, "BootNotification")) == 2


# ---- sessions ---------------------------------------------------------------------------


async def test_a_session_reports_a_growing_energy_register(make_station, csms, clock, version):
    station = make_station(version, max_current_a=16)
    await station.connect()
    await station.plug_in(1, Vehicle(battery_kwh=100, soc=20))
    tx_id = await station.start_session(1, "TAG1")
    clock.advance(1800)
    await station.send_meter_values(1)
    clock.advance(1800)
    assert await station.stop_session(1) == 11040  # 16 A × 3 × 230 V × 1 h
    await station.unplug(1)
    ident = station.identity
    if version == "1.6":
        assert tx_id == 1
        start = csms.received(ident, "StartTransaction")[0]
        assert (start["connectorId"], start["idTag"], start["meterStart"]) == (1, "TAG1", 0)
        meter = csms.received(ident, "MeterValues")[0]
        assert meter["transactionId"] == 1
        assert energy_of(meter["meterValue"]) == 5520
        samples = {
            (s["measurand"], s.get("phase")): s["value"]
            for s in meter["meterValue"][0]["sampledValue"]
        }
        assert samples[("Current.Import", "L2")] == "16.0"
        assert samples[("Power.Active.Import", None)] == "11040.0"
        assert float(samples[("SoC", None)]) > 20
        stop = csms.received(ident, "StopTransaction")[0]
        assert (stop["transactionId"], stop["meterStop"], stop["reason"]) == (1, 11040, "Local")
        assert connector_statuses(csms, station) == [
            "Available",
            "Preparing",
            "Charging",
            "Finishing",
            "Available",
        ]
    else:
        sent = events(csms, station)
        assert [e["eventType"] for e in sent] == ["Started", "Updated", "Ended"]
        assert [e["seqNo"] for e in sent] == [0, 1, 2]
        assert {e["transactionInfo"]["transactionId"] for e in sent} == {tx_id}
        assert [energy_of(e["meterValue"]) for e in sent] == [0, 5520, 11040]
        assert sent[0]["idToken"] == {"idToken": "TAG1", "type": "ISO14443"}
        assert sent[2]["triggerReason"] == "StopAuthorized"
        assert sent[2]["transactionInfo"]["stoppedReason"] == "Local"
        assert connector_statuses(csms, station) == ["Available", "Occupied", "Available"]


async def test_an_unknown_card_does_not_charge(make_station, csms, version):
    station = make_station(version)
    await station.connect()
    await station.plug_in(1)
    with pytest.raises(SessionRefused) as refused:
        await station.start_session(1, "STRANGER")
    assert refused.value.status == "Invalid"
    assert station.transaction(1) is None
    assert station.current_draw(1) == 0
    tx_messages = {"StartTransaction", "TransactionEvent"}
    assert not tx_messages & set(csms.actions(station.identity))


# ---- smart charging ---------------------------------------------------------------------


async def test_the_vehicle_draws_no_more_than_the_profile_allows(
    make_station, csms, clock, version
):
    station = await charging(make_station, version)
    assert station.current_draw(1) == 32
    status = await set_profile(
        csms, station, evse_id=1, profile_id=1, purpose="TxDefaultProfile", limits=[(0, 10)]
    )
    assert status == "Accepted"
    assert station.current_draw(1) == 10
    assert station.limit(1) == 10
    before = station.energy_wh(1)
    clock.advance(3600)
    assert station.energy_wh(1) - before == 6900
    assert await composite(csms, station, 1, 3600) == [(0, 10.0)]
    assert await composite(csms, station, 1, 3600, "W") == [(0, 6900.0)]
    # A TxProfile in watts for this transaction: 4140 W over 3 phases is 6 A.
    tx_id = station.transaction(1).transaction_id
    status = await set_profile(
        csms,
        station,
        evse_id=1,
        profile_id=2,
        purpose="TxProfile",
        limits=[(0, 4140)],
        unit="W",
        transaction_id=tx_id,
    )
    assert status == "Accepted"
    assert station.current_draw(1) == pytest.approx(6)


async def test_a_limit_below_6_a_suspends_and_the_csms_hears_of_it(make_station, csms, version):
    station = await charging(make_station, version)
    status = await set_profile(
        csms,
        station,
        evse_id=0,
        profile_id=1,
        purpose="ChargingStationMaxProfile",
        limits=[(0, 0)],
    )
    assert status == "Accepted"
    assert station.current_draw(1) == 0
    if version == "1.6":
        await station.wait_until(lambda: "SuspendedEVSE" in connector_statuses(csms, station))
    else:
        await station.wait_until(
            lambda: events(csms, station)[-1]["triggerReason"] == "ChargingStateChanged"
        )
        assert events(csms, station)[-1]["transactionInfo"]["chargingState"] == "SuspendedEVSE"


async def test_profiles_stack_by_level_and_purpose(make_station, csms, clock, version):
    station = await charging(make_station, version)
    for profile_id, evse_id, purpose, limit, stack, duration in (
        (1, 0, "ChargingStationMaxProfile", 16, 0, None),
        (2, 1, "TxDefaultProfile", 20, 0, None),
        (3, 1, "TxDefaultProfile", 8, 1, 600),
    ):
        status = await set_profile(
            csms,
            station,
            evse_id=evse_id,
            profile_id=profile_id,
            purpose=purpose,
            limits=[(0, limit)],
            stack_level=stack,
            duration=duration,
        )
        assert status == "Accepted"
    assert station.current_draw(1) == 8
    assert await composite(csms, station, 1, 1200) == [(0, 8.0), (600, 16.0)]
    clock.advance(600)
    assert station.current_draw(1) == 16  # stack 1 ended: min(station max 16, default 20)
    purpose = "ChargePointMaxProfile" if version == "1.6" else "ChargingStationMaxProfile"
    if version == "1.6":
        clear: Any = call16.ClearChargingProfile(charging_profile_purpose=purpose)
        unknown: Any = call16.ClearChargingProfile(id=99)
    else:
        clear = call201.ClearChargingProfile(
            charging_profile_criteria={"charging_profile_purpose": purpose}
        )
        unknown = call201.ClearChargingProfile(charging_profile_id=99)
    assert (await csms.send(station.identity, clear)).status == "Accepted"
    assert station.current_draw(1) == 20
    assert (await csms.send(station.identity, unknown)).status == "Unknown"


async def test_profiles_a_station_cannot_apply_are_rejected(make_station, csms, version):
    station = make_station(version)
    await station.connect()

    async def status(**kwargs) -> str:
        return await set_profile(csms, station, limits=[(0, 16)], **kwargs)

    assert await status(evse_id=1, profile_id=1, purpose="TxProfile") == "Rejected"
    assert await status(evse_id=1, profile_id=2, purpose="ChargingStationMaxProfile") == "Rejected"
    assert await status(evse_id=1, profile_id=3, purpose="TxDefaultProfile", stack_level=9) == (
        "Rejected"
    )
    assert await status(evse_id=1, profile_id=4, purpose="TxDefaultProfile") == "Accepted"
    assert [p.id for p in station.profiles] == [4]


# ---- remote control ---------------------------------------------------------------------


async def test_remote_start_and_stop(make_station, csms, version):
    station = make_station(version)
    await station.connect()
    await station.plug_in(1)
    ident = station.identity
    if version == "1.6":
        start: Any = call16.RemoteStartTransaction(id_tag="TAG2", connector_id=1)
    else:
        start = call201.RequestStartTransaction(
            id_token={"id_token": "TAG2", "type": "ISO14443"}, remote_start_id=42, evse_id=1
        )
    assert (await csms.send(ident, start)).status == "Accepted"
    await station.wait_until(lambda: getattr(station.transaction(1), "transaction_id", None))
    tx_id = station.transaction(1).transaction_id
    if version == "1.6":
        assert (await csms.wait_for(ident, "StartTransaction"))["idTag"] == "TAG2"
        stop: Any = call16.RemoteStopTransaction(transaction_id=tx_id)
        wrong: Any = call16.RemoteStopTransaction(transaction_id=999)
    else:
        started = await csms.wait_for(ident, "TransactionEvent")
        assert started["triggerReason"] == "RemoteStart"
        assert started["transactionInfo"]["remoteStartId"] == 42
        stop = call201.RequestStopTransaction(transaction_id=tx_id)
        wrong = call201.RequestStopTransaction(transaction_id="nope")
    assert (await csms.send(ident, wrong)).status == "Rejected"
    assert (await csms.send(ident, stop)).status == "Accepted"
    await station.wait_until(lambda: station.transaction(1) is None)
    if version == "1.6":
        ended = await csms.wait_for(ident, "StopTransaction")
        assert (ended["transactionId"], ended["reason"]) == (tx_id, "Remote")
    else:
        await station.wait_until(lambda: events(csms, station)[-1]["eventType"] == "Ended")
        ended = events(csms, station)[-1]
        assert ended["triggerReason"] == "RemoteStop"
        assert ended["transactionInfo"]["stoppedReason"] == "Remote"


async def test_a_remote_start_waits_for_the_cable(make_station, csms, version):
    station = make_station(version)
    await station.connect()
    ident = station.identity
    if version == "1.6":
        start: Any = call16.RemoteStartTransaction(id_tag="TAG2", connector_id=1)
    else:
        start = call201.RequestStartTransaction(
            id_token={"id_token": "TAG2", "type": "ISO14443"}, remote_start_id=7, evse_id=1
        )
    assert (await csms.send(ident, start)).status == "Accepted"
    assert (await csms.send(ident, start)).status == "Rejected"  # EVSE 1 is already promised
    await station.wait_until(lambda: station.status(1) == "Preparing")
    assert station.transaction(1) is None
    await station.plug_in(1)
    assert station.transaction(1) is not None
    if version == "2.0.1":
        started = events(csms, station)[0]
        assert started["triggerReason"] == "CablePluggedIn"
        assert started["transactionInfo"]["remoteStartId"] == 7


async def test_reset_ends_sessions_reboots_and_boots_again(make_station, csms, version):
    station = await charging(make_station, version)
    reset = call16.Reset(type="Soft") if version == "1.6" else call201.Reset(type="Immediate")
    assert (await csms.send(station.identity, reset)).status == "Accepted"
    await station.wait_until(lambda: station.boot_count == 2 and station.online)
    assert station.transaction(1) is None
    if version == "1.6":
        assert csms.received(station.identity, "StopTransaction")[0]["reason"] == "SoftReset"
    else:
        ended = events(csms, station)[-1]
        assert ended["transactionInfo"]["stoppedReason"] == "ImmediateReset"
        assert ended["triggerReason"] == "ResetCommand"
        assert csms.received(station.identity, "BootNotification")[1]["reason"] == "RemoteReset"


async def test_reset_on_idle_waits_for_the_session_to_end(make_station, csms):
    station = await charging(make_station, "2.0.1")
    result = await csms.send(station.identity, call201.Reset(type="OnIdle"))
    assert result.status == "Scheduled"
    assert station.boot_count == 1
    await station.stop_session(1)
    await station.wait_until(lambda: station.boot_count == 2 and station.online)


async def test_availability_follows_the_csms_and_waits_for_a_session(make_station, csms, version):
    station = make_station(version)
    await station.connect()

    def change(operative: bool) -> Any:
        kind = "Operative" if operative else "Inoperative"
        if version == "1.6":
            return call16.ChangeAvailability(connector_id=1, type=kind)
        return call201.ChangeAvailability(operational_status=kind, evse={"id": 1})

    assert (await csms.send(station.identity, change(False))).status == "Accepted"
    await station.wait_until(lambda: connector_statuses(csms, station)[-1] == "Unavailable")
    await station.plug_in(1)
    with pytest.raises(SessionRefused):
        await station.start_session(1, "TAG1")
    assert (await csms.send(station.identity, change(True))).status == "Accepted"
    await station.start_session(1, "TAG1")
    assert (await csms.send(station.identity, change(False))).status == "Scheduled"
    assert station.current_draw(1) > 0  # the running session goes on
    await station.stop_session(1)
    assert station.status(1) == "Unavailable"


async def test_unlock_connector(make_station, csms, version):
    station = await charging(make_station, version)
    ident = station.identity
    if version == "1.6":
        result = await csms.send(ident, call16.UnlockConnector(connector_id=1))
        assert result.status == "Unlocked"
        stop = await csms.wait_for(ident, "StopTransaction")
        assert stop["reason"] == "UnlockCommand"
        unknown = await csms.send(ident, call16.UnlockConnector(connector_id=5))
        assert unknown.status == "NotSupported"
    else:
        unlock = call201.UnlockConnector(evse_id=1, connector_id=1)
        assert (await csms.send(ident, unlock)).status == "OngoingAuthorizedTransaction"
        await station.stop_session(1)
        assert (await csms.send(ident, unlock)).status == "Unlocked"
        unknown = await csms.send(ident, call201.UnlockConnector(evse_id=5, connector_id=1))
        assert unknown.status == "UnknownConnector"


async def test_trigger_message(make_station, csms, version):
    station = await charging(make_station, version)
    ident = station.identity
    before = len(csms.received(ident, "StatusNotification"))
    if version == "1.6":
        status: Any = call16.TriggerMessage(requested_message="StatusNotification", connector_id=1)
        meter: Any = call16.TriggerMessage(requested_message="MeterValues", connector_id=1)
    else:
        status = call201.TriggerMessage(requested_message="StatusNotification", evse={"id": 1})
        meter = call201.TriggerMessage(requested_message="MeterValues", evse={"id": 1})
        unsupported = call201.TriggerMessage(requested_message="SignCombinedCertificate")
        assert (await csms.send(ident, unsupported)).status == "NotImplemented"
        boot = call201.TriggerMessage(requested_message="BootNotification")
        assert (await csms.send(ident, boot)).status == "Rejected"  # already accepted
    assert (await csms.send(ident, status)).status == "Accepted"
    await csms.wait_for(ident, "StatusNotification", count=before + 1)
    assert (await csms.send(ident, meter)).status == "Accepted"
    triggered = await csms.wait_for(ident, "MeterValues")
    assert triggered["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"


async def test_an_action_without_a_handler_gets_a_call_error(make_station, csms):
    station = make_station("1.6")
    await station.connect()
    request = call16.ExtendedTriggerMessage(requested_message="Heartbeat")
    with pytest.raises(OcppNotImplemented):
        await csms.send(station.identity, request)
    assert station.online


# ---- offline ----------------------------------------------------------------------------


async def test_messages_kept_offline_are_replayed_in_order(make_station, csms, clock, version):
    station = await charging(make_station, version)
    first_tx = station.transaction(1).transaction_id
    csms.drop(station.identity)
    await station.wait_until(lambda: not station.connected)
    clock.advance(600)
    await station.send_meter_values(1)  # metering goes on offline
    clock.advance(600)
    await station.stop_session(1)
    await station.unplug(1)
    await station.plug_in(1, Vehicle(battery_kwh=200, soc=10))
    offline_tx = await station.start_session(1, "TAG1")  # TAG1 is in the authorization cache
    clock.advance(600)
    await station.stop_session(1)
    assert len(station.queue) == 4
    seen = len(csms.calls)

    assert await station.connect() == "Accepted"

    assert not station.queue
    replayed = [(a, p) for _, a, p in csms.calls[seen:] if a not in ("StatusNotification",)]
    actions = [a for a, _ in replayed]
    if version == "1.6":
        assert offline_tx is None  # the CSMS issues the id when StartTransaction reaches it
        assert actions == [
            "BootNotification",
            "MeterValues",
            "StopTransaction",
            "StartTransaction",
            "StopTransaction",
        ]
        meter, stop, start, second_stop = (p for _, p in replayed[1:])
        assert (meter["transactionId"], energy_of(meter["meterValue"])) == (first_tx, 3680)
        assert (stop["transactionId"], stop["meterStop"]) == (first_tx, 7360)
        assert start["meterStart"] == 7360
        assert second_stop["transactionId"] == 2  # the id issued on replay
        assert second_stop["meterStop"] == 11040
    else:
        assert actions == ["BootNotification"] + ["TransactionEvent"] * 4
        sent = [p for _, p in replayed[1:]]
        assert [(e["eventType"], e["seqNo"]) for e in sent] == [
            ("Updated", 1),
            ("Ended", 2),
            ("Started", 0),
            ("Ended", 1),
        ]
        assert all(e["offline"] is True for e in sent)
        assert sent[1]["transactionInfo"]["transactionId"] == first_tx
        assert sent[2]["transactionInfo"]["transactionId"] == offline_tx != first_tx
        assert [energy_of(e["meterValue"]) for e in sent] == [3680, 7360, 7360, 11040]


async def test_an_offline_card_the_csms_refuses_later_is_deauthorised(make_station, csms, version):
    station = make_station(version)
    await station.connect()
    if version == "1.6":
        local_list: Any = call16.SendLocalList(
            list_version=3,
            update_type="Full",
            local_authorization_list=[{"id_tag": "TAG9", "id_tag_info": {"status": "Accepted"}}],
        )
        stale: Any = call16.SendLocalList(list_version=2, update_type="Differential")
        version_request: Any = call16.GetLocalListVersion()
    else:
        local_list = call201.SendLocalList(
            version_number=3,
            update_type="Full",
            local_authorization_list=[
                {
                    "id_token": {"id_token": "TAG9", "type": "ISO14443"},
                    "id_token_info": {"status": "Accepted"},
                }
            ],
        )
        stale = call201.SendLocalList(version_number=2, update_type="Differential")
        version_request = call201.GetLocalListVersion()
    assert (await csms.send(station.identity, local_list)).status == "Accepted"
    assert (await csms.send(station.identity, stale)).status == "VersionMismatch"
    answer = await csms.send(station.identity, version_request)
    assert (answer.list_version if version == "1.6" else answer.version_number) == 3
    csms.drop(station.identity)
    await station.wait_until(lambda: not station.connected)
    await station.plug_in(1)
    await station.start_session(1, "TAG9")  # accepted by the local list
    assert station.current_draw(1) == 32
    await station.connect()  # the CSMS does not know TAG9
    assert station.transaction(1) is None
    if version == "1.6":
        assert csms.received(station.identity, "StopTransaction")[0]["reason"] == "DeAuthorized"
    else:
        assert events(csms, station)[-1]["transactionInfo"]["stoppedReason"] == "DeAuthorized"


# ---- firmware, logs, configuration ------------------------------------------------------


async def test_firmware_update_installs_reboots_and_reports(make_station, csms, clock, version):
    station = make_station(version)
    await station.connect()
    location = "https://fw.example.com/sim/fw-2.1.0.bin"
    now = format_time(clock.now())
    if version == "1.6":
        request: Any = call16.UpdateFirmware(location=location, retrieve_date=now)
    else:
        request = call201.UpdateFirmware(
            request_id=7, firmware={"location": location, "retrieve_date_time": now}
        )
    await csms.send(station.identity, request)
    expected = ["Downloading", "Downloaded", "Installing", "Installed"]
    if version == "2.0.1":
        expected.insert(3, "InstallRebooting")
    notification = await csms.wait_for(
        station.identity, "FirmwareStatusNotification", len(expected)
    )
    notifications = csms.received(station.identity, "FirmwareStatusNotification")
    assert [n["status"] for n in notifications] == expected
    boots = csms.received(station.identity, "BootNotification")
    assert len(boots) == 2
    new_version = boots[1].get("firmwareVersion") or boots[1]["chargingStation"]["firmwareVersion"]
    assert new_version == "2.1.0" == station.firmware_version
    actions = csms.actions(station.identity)
    second_boot = [i for i, a in enumerate(actions) if a == "BootNotification"][1]
    assert actions.index("FirmwareStatusNotification") < second_boot
    assert len([a for a in actions[second_boot:] if a == "FirmwareStatusNotification"]) == 1
    if version == "2.0.1":
        assert {n["requestId"] for n in notifications} == {7}
        assert boots[1]["reason"] == "FirmwareUpdate"
    assert notification["status"] == "Installed"


async def test_a_firmware_download_from_an_unsupported_scheme_fails(make_station, csms, clock):
    station = make_station("1.6")
    await station.connect()
    request = call16.UpdateFirmware(
        location="scp://fw.example.com/fw-9.bin", retrieve_date=format_time(clock.now())
    )
    await csms.send(station.identity, request)
    await csms.wait_for(station.identity, "FirmwareStatusNotification", 2)
    statuses = [n["status"] for n in csms.received(station.identity, "FirmwareStatusNotification")]
    assert statuses == ["Downloading", "DownloadFailed"]
    assert station.firmware_version == "1.0.0"
    assert station.boot_count == 1


async def test_diagnostics_and_log_uploads_report_their_progress(make_station, csms, version):
    station = make_station(version)
    await station.connect()
    ident = station.identity
    if version == "1.6":
        result = await csms.send(ident, call16.GetDiagnostics(location="ftp://logs.example.com/"))
        assert result.file_name.startswith(ident)
        await csms.wait_for(ident, "DiagnosticsStatusNotification", 2)
        await csms.send(ident, call16.GetDiagnostics(location="scp://logs.example.com/"))
        await csms.wait_for(ident, "DiagnosticsStatusNotification", 4)
        statuses = [p["status"] for p in csms.received(ident, "DiagnosticsStatusNotification")]
        assert statuses == ["Uploading", "Uploaded", "Uploading", "UploadFailed"]
    else:
        request = call201.GetLog(
            log={"remote_location": "https://logs.example.com/upload"},
            log_type="DiagnosticsLog",
            request_id=4,
        )
        result = await csms.send(ident, request)
        assert result.status == "Accepted" and result.filename.endswith(".log")
        await csms.wait_for(ident, "LogStatusNotification", 2)
        notifications = csms.received(ident, "LogStatusNotification")
        assert [(n["status"], n["requestId"]) for n in notifications] == [
            ("Uploading", 4),
            ("Uploaded", 4),
        ]


async def test_configuration_keys_are_real_settings(make_station, csms, clock):
    station = make_station("1.6", auto=True)
    await station.connect()
    ident = station.identity
    everything = await csms.send(ident, call16.GetConfiguration())
    keys = {item["key"]: item for item in everything.configuration_key}
    assert keys["HeartbeatInterval"]["value"] == "300"  # as the CSMS said at boot
    assert keys["ChargeProfileMaxStackLevel"] == {
        "key": "ChargeProfileMaxStackLevel",
        "readonly": True,
        "value": "8",
    }
    assert keys["ChargingScheduleAllowedChargingRateUnit"]["value"] == "Current,Power"
    some = await csms.send(ident, call16.GetConfiguration(key=["MeterValueSampleInterval", "Nope"]))
    assert [i["value"] for i in some.configuration_key] == ["60"]
    assert some.unknown_key == ["Nope"]

    async def change(key: str, value: str) -> str:
        return (await csms.send(ident, call16.ChangeConfiguration(key=key, value=value))).status

    assert await change("NumberOfConnectors", "3") == "Rejected"
    assert await change("HeartbeatInterval", "often") == "Rejected"
    assert await change("Nope", "1") == "NotSupported"
    assert await change("MeterValuesSampledData", "Energy.Active.Import.Register") == "Accepted"
    assert await change("HeartbeatInterval", "60") == "Accepted"
    clock.advance(300)  # the heartbeat loop was waiting for the old interval
    # Once the answer is in, the loop is asleep again, now for the new interval.
    await station.wait_until(lambda: [c.response for c in station.calls_sent("Heartbeat")])
    clock.advance(60)
    await csms.wait_for(ident, "Heartbeat", 2)
    await station.plug_in(1)
    await station.start_session(1, "TAG1")
    await station.send_meter_values(1)
    meter = await csms.wait_for(ident, "MeterValues")
    assert [s["measurand"] for s in meter["meterValue"][0]["sampledValue"]] == [
        "Energy.Active.Import.Register"
    ]


async def test_device_model_variables_and_base_report(make_station, csms):
    station = make_station("2.0.1")
    await station.connect()
    ident = station.identity

    def item(component: str, variable: str, **extra: Any) -> dict[str, Any]:
        return {"component": {"name": component}, "variable": {"name": variable}, **extra}

    result = await csms.send(
        ident,
        call201.GetVariables(
            get_variable_data=[
                item("OCPPCommCtrlr", "HeartbeatInterval"),
                item("NoSuchCtrlr", "HeartbeatInterval"),
                item("SampledDataCtrlr", "NoSuchVariable"),
                item("OCPPCommCtrlr", "HeartbeatInterval", attribute_type="Target"),
            ]
        ),
    )
    statuses = [
        (r["attribute_status"], r.get("attribute_value")) for r in result.get_variable_result
    ]
    assert statuses == [
        ("Accepted", "300"),
        ("UnknownComponent", None),
        ("UnknownVariable", None),
        ("NotSupportedAttributeType", None),
    ]
    result = await csms.send(
        ident,
        call201.SetVariables(
            set_variable_data=[
                item("SampledDataCtrlr", "TxUpdatedInterval", attribute_value="30"),
                item("TxCtrlr", "TxStartPoint", attribute_value="EVConnected"),
            ]
        ),
    )
    assert [r["attribute_status"] for r in result.set_variable_result] == ["Accepted", "Rejected"]
    assert station.settings.get_int("MeterValueSampleInterval") == 30
    summary = await csms.send(
        ident, call201.GetBaseReport(request_id=5, report_base="SummaryInventory")
    )
    assert summary.status == "NotSupported"
    full = await csms.send(ident, call201.GetBaseReport(request_id=5, report_base="FullInventory"))
    assert full.status == "Accepted"
    await station.wait_until(
        lambda: any(r.get("tbc") is False for r in csms.received(ident, "NotifyReport"))
    )
    reports = csms.received(ident, "NotifyReport")
    assert [r["seqNo"] for r in reports] == list(range(len(reports)))
    reported = {
        (d["component"]["name"], d["variable"]["name"]): d["variableAttribute"][0]
        for r in reports
        for d in r["reportData"]
    }
    assert reported[("SampledDataCtrlr", "TxUpdatedInterval")]["value"] == "30"
    assert reported[("TxCtrlr", "TxStartPoint")]["mutability"] == "ReadOnly"


# ---- reservations, display messages, data transfer --------------------------------------


async def test_reservations_hold_the_evse_and_expire(make_station, csms, clock, version):
    station = make_station(version)
    await station.connect()
    ident = station.identity
    expiry = format_time(clock.now() + timedelta(minutes=10))

    def reserve(reservation_id: int) -> Any:
        if version == "1.6":
            return call16.ReserveNow(
                connector_id=1, expiry_date=expiry, id_tag="TAG2", reservation_id=reservation_id
            )
        return call201.ReserveNow(
            id=reservation_id,
            expiry_date_time=expiry,
            id_token={"id_token": "TAG2", "type": "ISO14443"},
            evse_id=1,
        )

    cancel = (call16 if version == "1.6" else call201).CancelReservation(reservation_id=9)
    assert (await csms.send(ident, reserve(9))).status == "Accepted"
    await station.wait_until(lambda: connector_statuses(csms, station)[-1] == "Reserved")
    assert (await csms.send(ident, cancel)).status == "Accepted"
    assert (await csms.send(ident, cancel)).status == "Rejected"
    await station.wait_until(lambda: connector_statuses(csms, station)[-1] == "Available")
    assert (await csms.send(ident, reserve(10))).status == "Accepted"
    await station.plug_in(1)
    with pytest.raises(SessionRefused):
        await station.start_session(1, "TAG1")
    await station.unplug(1)
    clock.advance(600)
    await station.wait_until(lambda: connector_statuses(csms, station)[-1] == "Available")
    assert station.evses[1].reservation is None
    if version == "2.0.1":
        update = await csms.wait_for(ident, "ReservationStatusUpdate")
        assert update == {"reservationId": 10, "reservationUpdateStatus": "Expired"}


async def test_a_reserved_driver_starts_with_the_reservation(make_station, csms, clock):
    station = make_station("1.6")
    await station.connect()
    expiry = format_time(clock.now() + timedelta(minutes=10))
    reserve = call16.ReserveNow(connector_id=1, expiry_date=expiry, id_tag="TAG2", reservation_id=4)
    assert (await csms.send(station.identity, reserve)).status == "Accepted"
    await station.plug_in(1)
    await station.start_session(1, "TAG2")
    assert csms.received(station.identity, "StartTransaction")[0]["reservationId"] == 4


async def test_display_messages(make_station, csms):
    station = make_station("2.0.1")
    await station.connect()
    ident = station.identity
    message = {
        "id": 1,
        "priority": "NormalCycle",
        "message": {"format": "UTF8", "content": "Bonjour"},
    }
    assert (await csms.send(ident, call201.SetDisplayMessage(message=message))).status == (
        "Accepted"
    )
    assert station.display_messages[1]["message"]["content"] == "Bonjour"
    unknown_tx = call201.SetDisplayMessage(message={**message, "id": 2, "transaction_id": "x"})
    assert (await csms.send(ident, unknown_tx)).status == "UnknownTransaction"
    assert (await csms.send(ident, call201.GetDisplayMessages(request_id=3))).status == "Accepted"
    notified = await csms.wait_for(ident, "NotifyDisplayMessages")
    assert notified["messageInfo"][0]["message"]["content"] == "Bonjour"
    clear = call201.ClearDisplayMessage(id=1)
    assert (await csms.send(ident, clear)).status == "Accepted"
    assert (await csms.send(ident, clear)).status == "Unknown"


async def test_data_transfer_both_ways(make_station, csms, version):
    station = make_station(version)
    await station.connect()
    station.data_transfer_handlers[("org.chargegrid", "Echo")] = lambda data: ("Accepted", data)
    module = call16 if version == "1.6" else call201

    async def transfer(vendor: str, message: str) -> Any:
        request = module.DataTransfer(vendor_id=vendor, message_id=message, data="hello")
        return await csms.send(station.identity, request)

    assert (await transfer("com.example", "Echo")).status == "UnknownVendorId"
    assert (await transfer("org.chargegrid", "Other")).status == "UnknownMessageId"
    echoed = await transfer("org.chargegrid", "Echo")
    assert (echoed.status, echoed.data) == ("Accepted", "hello")
    result = await station.data_transfer("org.chargegrid", "Ping", "42")
    assert (result.status, result.data) == ("Accepted", "42")


async def test_auto_mode_sends_heartbeats_and_periodic_meter_values(
    make_station, csms, clock, version
):
    station = await charging(make_station, version, auto=True, meter_interval=60)
    clock.advance(60)
    if version == "1.6":
        meter = await csms.wait_for(station.identity, "MeterValues")
        assert energy_of(meter["meterValue"]) == 22080 // 60
    else:
        await station.wait_until(lambda: len(events(csms, station)) == 2)
        assert events(csms, station)[1]["triggerReason"] == "MeterValuePeriodic"
    clock.advance(240)
    await csms.wait_for(station.identity, "Heartbeat")
