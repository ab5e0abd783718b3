"""Plain OCPP clients for tests: the `ocpp` library's ChargePoint over `websockets`."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

from django.db import connection
from django_tenants.utils import tenant_context
from ocpp.routing import on
from ocpp.v16 import ChargePoint as CP16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as CP201
from ocpp.v201 import call_result as result201
from websockets.asyncio.client import connect

from tests.live import basic_auth


class Recorder:
    """Answers every CSMS command the product sends and remembers what it got."""

    def record(self, action: str, payload: dict[str, Any]) -> None:
        self.received.append((action, payload))


class Client16(Recorder, CP16):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received: list[tuple[str, dict]] = []

    @on("RemoteStartTransaction")
    def remote_start(self, id_tag, **kw):
        self.record("RemoteStartTransaction", {"id_tag": id_tag, **kw})
        return result16.RemoteStartTransaction(status="Accepted")

    @on("RemoteStopTransaction")
    def remote_stop(self, transaction_id):
        self.record("RemoteStopTransaction", {"transaction_id": transaction_id})
        return result16.RemoteStopTransaction(status="Accepted")

    @on("Reset")
    def reset(self, type):
        self.record("Reset", {"type": type})
        return result16.Reset(status="Accepted")

    @on("UnlockConnector")
    def unlock(self, connector_id):
        self.record("UnlockConnector", {"connector_id": connector_id})
        return result16.UnlockConnector(status="Unlocked")

    @on("ChangeAvailability")
    def availability(self, connector_id, type):
        self.record("ChangeAvailability", {"connector_id": connector_id, "type": type})
        return result16.ChangeAvailability(status="Accepted")

    @on("GetConfiguration")
    def get_configuration(self, **kw):
        self.record("GetConfiguration", kw)
        return result16.GetConfiguration(
            configuration_key=[{"key": "HeartbeatInterval", "readonly": False, "value": "300"}]
        )

    @on("ChangeConfiguration")
    def change_configuration(self, key, value):
        self.record("ChangeConfiguration", {"key": key, "value": value})
        return result16.ChangeConfiguration(status="Accepted")

    @on("TriggerMessage")
    def trigger(self, requested_message, **kw):
        self.record("TriggerMessage", {"requested_message": requested_message, **kw})
        return result16.TriggerMessage(status="Accepted")

    @on("SetChargingProfile")
    def set_profile(self, connector_id, cs_charging_profiles):
        self.record(
            "SetChargingProfile", {"connector_id": connector_id, "profile": cs_charging_profiles}
        )
        return result16.SetChargingProfile(status="Accepted")

    @on("ClearChargingProfile")
    def clear_profile(self, **kw):
        self.record("ClearChargingProfile", kw)
        return result16.ClearChargingProfile(status="Accepted")

    @on("GetCompositeSchedule")
    def composite(self, connector_id, duration, **kw):
        self.record("GetCompositeSchedule", {"connector_id": connector_id, "duration": duration})
        return result16.GetCompositeSchedule(status="Accepted", connector_id=connector_id)

    @on("ReserveNow")
    def reserve(self, connector_id, expiry_date, id_tag, reservation_id, **kw):
        self.record("ReserveNow", {"reservation_id": reservation_id})
        return result16.ReserveNow(status="Accepted")

    @on("CancelReservation")
    def cancel_reservation(self, reservation_id):
        self.record("CancelReservation", {"reservation_id": reservation_id})
        return result16.CancelReservation(status="Accepted")

    @on("SendLocalList")
    def send_local_list(self, list_version, update_type, **kw):
        self.record("SendLocalList", {"list_version": list_version})
        return result16.SendLocalList(status="Accepted")

    @on("GetLocalListVersion")
    def local_list_version(self):
        self.record("GetLocalListVersion", {})
        return result16.GetLocalListVersion(list_version=3)

    @on("UpdateFirmware")
    def update_firmware(self, location, retrieve_date, **kw):
        self.record("UpdateFirmware", {"location": location})
        return result16.UpdateFirmware()

    @on("GetDiagnostics")
    def diagnostics(self, location, **kw):
        self.record("GetDiagnostics", {"location": location})
        return result16.GetDiagnostics(file_name="diag.zip")

    @on("DataTransfer")
    def data_transfer(self, vendor_id, **kw):
        self.record("DataTransfer", {"vendor_id": vendor_id, **kw})
        return result16.DataTransfer(status="Accepted", data="pong")


class Client201(Recorder, CP201):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received: list[tuple[str, dict]] = []

    @on("RequestStartTransaction")
    def request_start(self, id_token, remote_start_id, **kw):
        self.record(
            "RequestStartTransaction",
            {"id_token": id_token, "remote_start_id": remote_start_id, **kw},
        )
        return result201.RequestStartTransaction(status="Accepted")

    @on("RequestStopTransaction")
    def request_stop(self, transaction_id):
        self.record("RequestStopTransaction", {"transaction_id": transaction_id})
        return result201.RequestStopTransaction(status="Accepted")

    @on("Reset")
    def reset(self, type, **kw):
        self.record("Reset", {"type": type})
        return result201.Reset(status="Accepted")

    @on("UnlockConnector")
    def unlock(self, evse_id, connector_id):
        self.record("UnlockConnector", {"evse_id": evse_id})
        return result201.UnlockConnector(status="Unlocked")

    @on("ChangeAvailability")
    def availability(self, operational_status, **kw):
        self.record("ChangeAvailability", {"operational_status": operational_status})
        return result201.ChangeAvailability(status="Accepted")

    @on("GetVariables")
    def get_variables(self, get_variable_data):
        self.record("GetVariables", {"data": get_variable_data})
        return result201.GetVariables(
            get_variable_result=[
                {
                    "attribute_status": "Accepted",
                    "attribute_value": "300",
                    "component": d["component"],
                    "variable": d["variable"],
                }
                for d in get_variable_data
            ]
        )

    @on("SetVariables")
    def set_variables(self, set_variable_data):
        self.record("SetVariables", {"data": set_variable_data})
        return result201.SetVariables(
            set_variable_result=[
                {
                    "attribute_status": "Accepted",
                    "component": d["component"],
                    "variable": d["variable"],
                }
                for d in set_variable_data
            ]
        )

    @on("GetBaseReport")
    def base_report(self, request_id, report_base):
        self.record("GetBaseReport", {"request_id": request_id})
        return result201.GetBaseReport(status="Accepted")

    @on("TriggerMessage")
    def trigger(self, requested_message, **kw):
        self.record("TriggerMessage", {"requested_message": requested_message})
        return result201.TriggerMessage(status="Accepted")

    @on("SetChargingProfile")
    def set_profile(self, evse_id, charging_profile):
        self.record("SetChargingProfile", {"evse_id": evse_id, "profile": charging_profile})
        return result201.SetChargingProfile(status="Accepted")

    @on("ClearChargingProfile")
    def clear_profile(self, **kw):
        self.record("ClearChargingProfile", kw)
        return result201.ClearChargingProfile(status="Accepted")

    @on("GetCompositeSchedule")
    def composite(self, duration, evse_id, **kw):
        self.record("GetCompositeSchedule", {"evse_id": evse_id})
        return result201.GetCompositeSchedule(status="Accepted")

    @on("ReserveNow")
    def reserve(self, id, expiry_date_time, id_token, **kw):
        self.record("ReserveNow", {"id": id})
        return result201.ReserveNow(status="Accepted")

    @on("CancelReservation")
    def cancel_reservation(self, reservation_id):
        self.record("CancelReservation", {"reservation_id": reservation_id})
        return result201.CancelReservation(status="Accepted")

    @on("SendLocalList")
    def send_local_list(self, version_number, update_type, **kw):
        self.record("SendLocalList", {"version_number": version_number})
        return result201.SendLocalList(status="Accepted")

    @on("GetLocalListVersion")
    def local_list_version(self):
        self.record("GetLocalListVersion", {})
        return result201.GetLocalListVersion(version_number=3)

    @on("UpdateFirmware")
    def update_firmware(self, request_id, firmware, **kw):
        self.record("UpdateFirmware", {"request_id": request_id})
        return result201.UpdateFirmware(status="Accepted")

    @on("GetLog")
    def get_log(self, log, log_type, request_id, **kw):
        self.record("GetLog", {"request_id": request_id})
        return result201.GetLog(status="Accepted", filename="log.tgz")

    @on("SetDisplayMessage")
    def display(self, message):
        self.record("SetDisplayMessage", {"message": message})
        return result201.SetDisplayMessage(status="Accepted")

    @on("DataTransfer")
    def data_transfer(self, vendor_id, **kw):
        self.record("DataTransfer", {"vendor_id": vendor_id})
        return result201.DataTransfer(status="Accepted")


class Connected:
    """``async with Connected(url, identity, password, "1.6") as cp:`` — a running client."""

    def __init__(self, base_url: str, identity: str, password: str | None, version: str):
        self.url = f"{base_url}/ocpp/{identity}"
        self.identity, self.password, self.version = identity, password, version

    async def __aenter__(self):
        headers = (
            {"Authorization": basic_auth(self.identity, self.password)} if self.password else {}
        )
        started = dt.datetime.now(dt.UTC)
        self.ws = await connect(
            self.url,
            subprotocols=[f"ocpp{self.version}"],
            additional_headers=headers,
            open_timeout=10,
        )
        cls = Client16 if self.version == "1.6" else Client201
        self.cp = cls(self.identity, self.ws)
        self.task = asyncio.create_task(self.cp.start())
        await self._marked_online(started)
        return self.cp

    async def _marked_online(self, since: dt.datetime, timeout: float = 10.0) -> None:
        """The server marks a station online just after accepting its socket (batched, off
        the handshake path); tests that send a command at once wait for that mark."""
        from apps.stations.models import Station
        from apps.tenants.models import StationIdentity

        def marked() -> bool:
            try:
                connection.set_schema_to_public()
                entry = StationIdentity.objects.select_related("tenant").get(identity=self.identity)
                with tenant_context(entry.tenant):
                    return Station.objects.filter(
                        identity=self.identity, is_online=True, connected_at__gte=since
                    ).exists()
            finally:
                connection.close()

        deadline = asyncio.get_running_loop().time() + timeout
        while not await asyncio.to_thread(marked):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{self.identity} was not marked online")
            await asyncio.sleep(0.02)

    async def __aexit__(self, *exc):
        self.task.cancel()
        await self.ws.close()


async def raw_exchange(ws, frame: str, timeout: float = 20.0) -> list:
    await ws.send(frame)
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def in_db(tenant, fn):
    """Run ORM code in a worker thread inside ``tenant`` (the test's loop stays free)."""

    def run():
        try:
            with tenant_context(tenant):
                return fn()
        finally:
            connection.close()

    return await asyncio.to_thread(run)
