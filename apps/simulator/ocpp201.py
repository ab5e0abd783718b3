"""OCPP 2.0.1 for the simulated station: message builders and the handlers for what the CSMS
asks.  Actions without a handler (monitoring, ISO 15118...) get the library's
NotImplemented CallError."""

from __future__ import annotations

import logging
from typing import Any

from ocpp.routing import on
from ocpp.v201 import ChargePoint, call, call_result

from .device_model import MEASURANDS, Setting
from .profiles import Purpose, profile_from_v201
from .protocol import Protocol, QueuedMessage, StationChargePoint, sampled_values
from .state import Evse, Reading, Reservation, Transaction
from .timeutil import format_time

logger = logging.getLogger("chargegrid.simulator")

# 2.0.1 has no SoftReset / HardReset / UnlockCommand stop reasons.
REASONS = {"SoftReset": "ImmediateReset", "HardReset": "ImmediateReset", "UnlockCommand": "Other"}
STOP_TRIGGERS = {
    "Local": "StopAuthorized",
    "Remote": "RemoteStop",
    "EVDisconnected": "EVCommunicationLost",
    "DeAuthorized": "Deauthorized",
    "SoftReset": "ResetCommand",
    "HardReset": "ResetCommand",
    "ImmediateReset": "ResetCommand",
    "UnlockCommand": "UnlockCommand",
    "EnergyLimitReached": "EnergyLimitReached",
    "TimeLimitReached": "TimeLimitReached",
}
CONTEXTS = {
    "MeterValuePeriodic": "Sample.Periodic",
    "Trigger": "Trigger",
    "ChargingStateChanged": "Other",
}
DATA_TYPES = {"int": "integer", "bool": "boolean", "str": "string", "measurands": "MemberList"}
REPORT_CHUNK = 20


def connector_status(status_16: str | None) -> str | None:
    """A 1.6 connector status in 2.0.1 terms."""
    if status_16 is None or status_16 in ("Available", "Reserved", "Unavailable", "Faulted"):
        return status_16
    return "Occupied"


class Ocpp201(Protocol):
    version = "2.0.1"
    subprotocol = "ocpp2.0.1"
    call = call

    def charge_point(self, connection: Any) -> ChargePoint201:
        return ChargePoint201(self.station, connection)

    def boot_notification(self, reason: str) -> call.BootNotification:
        config = self.station.config
        return call.BootNotification(
            charging_station={
                "model": config.model[:20],
                "vendor_name": config.vendor[:50],
                "serial_number": (config.serial_number or f"SN-{config.identity}")[:25],
                "firmware_version": self.station.firmware_version[:50],
            },
            reason=reason,
        )

    def status_notifications(
        self, evse: Evse, previous: str | None, force: bool
    ) -> list[call.StatusNotification]:
        status = evse.connector_status_v201()
        if not force and status == connector_status(previous):
            return []
        return [
            call.StatusNotification(
                timestamp=format_time(self.station.clock.now()),
                connector_status=status,
                evse_id=evse.id,
                connector_id=1,
            )
        ]

    def station_status_notification(self) -> None:
        return None  # 2.0.1 reports connectors only

    def authorize(self, id_tag: str, token_type: str) -> call.Authorize:
        return call.Authorize(id_token={"id_token": id_tag, "type": token_type})

    def authorize_status(self, result: call_result.Authorize) -> str:
        return result.id_token_info["status"]

    def transaction_started(
        self, tx: Transaction, evse: Evse, reading: Reading, trigger: str
    ) -> QueuedMessage:
        return self._event(tx, evse, reading, "Started", trigger, "Transaction.Begin")

    def transaction_updated(
        self, tx: Transaction, evse: Evse, reading: Reading, trigger: str
    ) -> QueuedMessage:
        return self._event(tx, evse, reading, "Updated", trigger, CONTEXTS.get(trigger, "Other"))

    def transaction_ended(
        self, tx: Transaction, evse: Evse, reading: Reading, reason: str
    ) -> QueuedMessage:
        trigger = STOP_TRIGGERS.get(reason, "AbnormalCondition")
        return self._event(
            tx,
            evse,
            reading,
            "Ended",
            trigger,
            "Transaction.End",
            reason=REASONS.get(reason, reason),
        )

    def _event(
        self,
        tx: Transaction,
        evse: Evse,
        reading: Reading,
        event_type: str,
        trigger: str,
        context: str,
        *,
        reason: str | None = None,
    ) -> QueuedMessage:
        """Everything is fixed now, when it happens; only the sending waits for a connection."""
        settings = self.station.settings
        key = "StopTxnSampledData" if event_type == "Ended" else "MeterValuesSampledData"
        sampled = _sampled_values(reading, context, settings.get_list(key))
        tx.charging_state = evse.charging_state_v201()
        info: dict[str, Any] = {
            "transaction_id": tx.transaction_id,
            "charging_state": tx.charging_state,
        }
        if event_type == "Started" and tx.remote_start_id is not None:
            info["remote_start_id"] = tx.remote_start_id
        if reason is not None:
            info["stopped_reason"] = reason
        first = event_type == "Started"
        payload = call.TransactionEvent(
            event_type=event_type,
            timestamp=format_time(reading.at),
            trigger_reason=trigger,
            seq_no=tx.next_seq_no(),
            transaction_info=info,
            meter_value=[{"timestamp": format_time(reading.at), "sampled_value": sampled}]
            if sampled
            else None,
            offline=True if not self.station.online else None,
            number_of_phases_used=evse.phases_in_use or None,
            evse={"id": evse.id, "connector_id": 1} if first else None,
            id_token={"id_token": tx.id_tag, "type": tx.token_type} if first else None,
            reservation_id=tx.reservation_id if first else None,
        )

        def answered(result: call_result.TransactionEvent) -> None:
            if first and result.id_token_info:
                tx.authorization_status = result.id_token_info["status"]

        return QueuedMessage(
            build=lambda: payload,
            on_result=answered,
            transaction=tx,
            is_sample=trigger == "MeterValuePeriodic",
        )

    def meter_values(self, evse: Evse, reading: Reading, context: str) -> call.MeterValues:
        sampled = _sampled_values(
            reading, context, self.station.settings.get_list("MeterValuesSampledData")
        )
        return call.MeterValues(
            evse_id=evse.id,
            meter_value=[{"timestamp": format_time(reading.at), "sampled_value": sampled}],
        )

    def firmware_status(
        self, status: str, request_id: int | None
    ) -> call.FirmwareStatusNotification:
        return call.FirmwareStatusNotification(status=status, request_id=request_id)

    def upload_status(self, status: str, request_id: int | None) -> call.LogStatusNotification:
        return call.LogStatusNotification(
            status="UploadFailure" if status == "Failed" else status, request_id=request_id
        )

    def reservation_ended(self, reservation: Reservation, how: str) -> call.ReservationStatusUpdate:
        return call.ReservationStatusUpdate(
            reservation_id=reservation.id, reservation_update_status=how
        )

    async def notify_report(self, request_id: int, base: str) -> None:
        settings = self.station.settings.visible()
        if base == "ConfigurationInventory":
            settings = [s for s in settings if not s.readonly]
        items = [self._report_item(s) for s in settings]
        chunks = [items[i : i + REPORT_CHUNK] for i in range(0, len(items), REPORT_CHUNK)]
        generated_at = format_time(self.station.clock.now())
        for seq_no, chunk in enumerate(chunks):
            await self.station.notify(
                call.NotifyReport(
                    request_id=request_id,
                    generated_at=generated_at,
                    seq_no=seq_no,
                    report_data=chunk,
                    tbc=seq_no < len(chunks) - 1,
                ),
                accepted_only=False,
            )

    def _report_item(self, setting: Setting) -> dict[str, Any]:
        characteristics: dict[str, Any] = {
            "data_type": DATA_TYPES[setting.kind],
            "supports_monitoring": False,
        }
        if setting.unit:
            characteristics["unit"] = setting.unit
        if setting.kind == "measurands":
            characteristics["values_list"] = ",".join(MEASURANDS)
        return {
            "component": {"name": setting.component},
            "variable": _variable(setting),
            "variable_attribute": [
                {
                    "type": "Actual",
                    "value": self.station.settings.get(setting.key),
                    "mutability": "ReadOnly" if setting.readonly else "ReadWrite",
                    "persistent": True,
                    "constant": setting.readonly,
                }
            ],
            "variable_characteristics": characteristics,
        }

    def sign_certificate(self, csr: str, certificate_type: str) -> call.SignCertificate:
        return call.SignCertificate(csr=csr, certificate_type=certificate_type)

    async def report_charging_profiles(self, request_id: int, profiles: list[Any]) -> None:
        evse_ids = sorted({p.evse_id for p in profiles})
        for index, evse_id in enumerate(evse_ids):
            await self.station.notify(
                call.ReportChargingProfiles(
                    request_id=request_id,
                    charging_limit_source="CSO",
                    charging_profile=[p.raw for p in profiles if p.evse_id == evse_id],
                    evse_id=evse_id,
                    tbc=index < len(evse_ids) - 1,
                )
            )


def _variable(setting: Setting) -> dict[str, Any]:
    variable: dict[str, Any] = {"name": setting.variable}
    if setting.instance:
        variable["instance"] = setting.instance
    return variable


def _sampled_values(reading: Reading, context: str, measurands: list[str]) -> list[dict[str, Any]]:
    def sample(value: float, measurand: str, unit: str, **extra: str) -> dict[str, Any]:
        return {
            "value": value,
            "context": context,
            "measurand": measurand,
            "location": "Outlet",
            "unit_of_measure": {"unit": unit},
            **extra,
        }

    return sampled_values(reading, measurands, sample)


class ChargePoint201(StationChargePoint, ChargePoint):
    call_result = call_result
    parse_profile = staticmethod(profile_from_v201)
    remote_start_profile_names_no_transaction = True

    @property
    def proto(self) -> Ocpp201:
        return self.station.protocol  # type: ignore[return-value]

    @on("RequestStartTransaction")
    def on_request_start(
        self,
        id_token: dict[str, Any],
        remote_start_id: int,
        evse_id: int | None = None,
        charging_profile: dict[str, Any] | None = None,
        **_: Any,
    ) -> call_result.RequestStartTransaction:
        accepted = self.start_remotely(
            evse_id, id_token["id_token"], id_token["type"], remote_start_id, charging_profile
        )
        return call_result.RequestStartTransaction(status="Accepted" if accepted else "Rejected")

    @on("RequestStopTransaction")
    def on_request_stop(self, transaction_id: str, **_: Any) -> call_result.RequestStopTransaction:
        accepted = self.stop_remotely(transaction_id)
        return call_result.RequestStopTransaction(status="Accepted" if accepted else "Rejected")

    @on("GetTransactionStatus")
    def on_get_transaction_status(
        self, transaction_id: str | None = None, **_: Any
    ) -> call_result.GetTransactionStatus:
        station = self.station
        queued = [
            m
            for m in station.queue
            if transaction_id is None
            or (m.transaction is not None and m.transaction.transaction_id == transaction_id)
        ]
        ongoing = None
        if transaction_id is not None:
            ongoing = station.find_transaction(transaction_id) is not None
        return call_result.GetTransactionStatus(
            messages_in_queue=bool(queued), ongoing_indicator=ongoing
        )

    @on("Reset")
    def on_reset(self, type: str, evse_id: int | None = None, **_: Any) -> call_result.Reset:
        if evse_id is not None:
            # Resetting one EVSE alone is optional (B11) and this station does not do it.
            return call_result.Reset(status="Rejected")
        return call_result.Reset(status=self.reset(type))

    @on("UnlockConnector")
    def on_unlock_connector(
        self, evse_id: int, connector_id: int, **_: Any
    ) -> call_result.UnlockConnector:
        evse = self.station.evses.get(evse_id)
        if evse is None or connector_id != 1:
            return call_result.UnlockConnector(status="UnknownConnector")
        if evse.transaction is not None:
            return call_result.UnlockConnector(status="OngoingAuthorizedTransaction")
        return call_result.UnlockConnector(status="Unlocked")

    @on("ChangeAvailability")
    def on_change_availability(
        self, operational_status: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> call_result.ChangeAvailability:
        evse_id = evse["id"] if evse else 0
        status = self.change_availability(evse_id, operational_status == "Operative")
        return call_result.ChangeAvailability(status=status)

    @on("GetVariables")
    def on_get_variables(
        self, get_variable_data: list[dict[str, Any]], **_: Any
    ) -> call_result.GetVariables:
        settings = self.station.settings
        results = []
        for item in get_variable_data:
            found = _lookup(settings, item)
            result = _attribute(item)
            if isinstance(found, str):
                result["attribute_status"] = found
            else:
                result["attribute_status"] = "Accepted"
                result["attribute_value"] = settings.get(found.key)
            results.append(result)
        return call_result.GetVariables(get_variable_result=results)

    @on("SetVariables")
    def on_set_variables(
        self, set_variable_data: list[dict[str, Any]], **_: Any
    ) -> call_result.SetVariables:
        settings = self.station.settings
        results = []
        for item in set_variable_data:
            found = _lookup(settings, item)
            if isinstance(found, str):
                status = found
            else:
                status = settings.change(found.key, item["attribute_value"])
                if status == "NotSupported":
                    status = "UnknownVariable"
            results.append({**_attribute(item), "attribute_status": status})
        return call_result.SetVariables(set_variable_result=results)

    @on("GetBaseReport")
    def on_get_base_report(
        self, request_id: int, report_base: str, **_: Any
    ) -> call_result.GetBaseReport:
        if report_base == "SummaryInventory":
            return call_result.GetBaseReport(status="NotSupported")
        self.after_response(lambda: self.proto.notify_report(request_id, report_base))
        return call_result.GetBaseReport(status="Accepted")

    @on("TriggerMessage")
    def on_trigger_message(
        self, requested_message: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> call_result.TriggerMessage:
        evse_id = evse["id"] if evse else None
        return call_result.TriggerMessage(status=self.trigger(requested_message, evse_id))

    @on("CertificateSigned")
    def on_certificate_signed(
        self, certificate_chain: str, certificate_type: str = "ChargingStationCertificate", **_: Any
    ) -> call_result.CertificateSigned:
        status = self.station.certificate_signed(certificate_chain, certificate_type)
        return call_result.CertificateSigned(status=status)

    @on("InstallCertificate")
    def on_install_certificate(
        self, certificate_type: str, certificate: str, **_: Any
    ) -> call_result.InstallCertificate:
        return call_result.InstallCertificate(
            status=self.station.install_certificate(certificate_type, certificate)
        )

    @on("GetInstalledCertificateIds")
    def on_get_installed_certificate_ids(
        self, certificate_type: list[str] | None = None, **_: Any
    ) -> call_result.GetInstalledCertificateIds:
        held = self.station.installed_certificate_ids(certificate_type)
        if not held:
            return call_result.GetInstalledCertificateIds(status="NotFound")
        return call_result.GetInstalledCertificateIds(
            status="Accepted",
            certificate_hash_data_chain=[
                {"certificateType": kind, "certificateHashData": data} for kind, data in held
            ],
        )

    @on("DeleteCertificate")
    def on_delete_certificate(
        self, certificate_hash_data: dict[str, Any], **_: Any
    ) -> call_result.DeleteCertificate:
        return call_result.DeleteCertificate(
            status=self.station.delete_certificate(certificate_hash_data)
        )

    @on("SetChargingProfile")
    def on_set_charging_profile(
        self, evse_id: int, charging_profile: dict[str, Any], **_: Any
    ) -> call_result.SetChargingProfile:
        error = self.set_charging_profile(evse_id, charging_profile)
        if error:
            return call_result.SetChargingProfile(
                status="Rejected",
                status_info={"reason_code": "InvalidProfile", "additional_info": error[:512]},
            )
        return call_result.SetChargingProfile(status="Accepted")

    @on("ClearChargingProfile")
    def on_clear_charging_profile(
        self,
        charging_profile_id: int | None = None,
        charging_profile_criteria: dict[str, Any] | None = None,
        **_: Any,
    ) -> call_result.ClearChargingProfile:
        criteria = charging_profile_criteria or {}
        purpose = criteria.get("charging_profile_purpose")
        status = self.clear_charging_profiles(
            profile_id=charging_profile_id,
            evse_id=criteria.get("evse_id"),
            purpose=Purpose(purpose) if purpose else None,
            stack_level=criteria.get("stack_level"),
        )
        return call_result.ClearChargingProfile(status=status)

    @on("GetCompositeSchedule")
    def on_get_composite_schedule(
        self, duration: int, evse_id: int, charging_rate_unit: str | None = None, **_: Any
    ) -> call_result.GetCompositeSchedule:
        schedule = self.station.composite_schedule(evse_id, duration, charging_rate_unit)
        if schedule is None:
            return call_result.GetCompositeSchedule(status="Rejected")
        return call_result.GetCompositeSchedule(
            status="Accepted",
            schedule={
                "evse_id": evse_id,
                "duration": schedule.duration,
                "schedule_start": format_time(schedule.start),
                "charging_rate_unit": schedule.unit,
                "charging_schedule_period": schedule.period_list(),
            },
        )

    @on("GetChargingProfiles")
    def on_get_charging_profiles(
        self,
        request_id: int,
        charging_profile: dict[str, Any],
        evse_id: int | None = None,
        **_: Any,
    ) -> call_result.GetChargingProfiles:
        purpose = charging_profile.get("charging_profile_purpose")
        stack_level = charging_profile.get("stack_level")
        ids = charging_profile.get("charging_profile_id")
        sources = charging_profile.get("charging_limit_source")
        matching = [
            p
            for p in self.station.profiles
            if (evse_id is None or p.evse_id == evse_id)
            and (purpose is None or p.purpose == purpose)
            and (stack_level is None or p.stack_level == stack_level)
            and (not ids or p.id in ids)
            and (not sources or "CSO" in sources)
        ]
        if not matching:
            return call_result.GetChargingProfiles(status="NoProfiles")
        self.after_response(lambda: self.proto.report_charging_profiles(request_id, matching))
        return call_result.GetChargingProfiles(status="Accepted")

    @on("ReserveNow")
    def on_reserve_now(
        self,
        id: int,
        expiry_date_time: str,
        id_token: dict[str, Any],
        evse_id: int | None = None,
        group_id_token: dict[str, Any] | None = None,
        **_: Any,
    ) -> call_result.ReserveNow:
        group = group_id_token["id_token"] if group_id_token else None
        status = self.reserve(id, evse_id, id_token["id_token"], expiry_date_time, group)
        return call_result.ReserveNow(status=status)

    @on("SendLocalList")
    def on_send_local_list(
        self,
        version_number: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> call_result.SendLocalList:
        entries = [
            (item["id_token"]["id_token"], (item.get("id_token_info") or {}).get("status"))
            for item in local_authorization_list or []
        ]
        status = self.station.update_local_list(version_number, update_type == "Full", entries)
        return call_result.SendLocalList(status=status)

    @on("GetLocalListVersion")
    def on_get_local_list_version(self, **_: Any) -> call_result.GetLocalListVersion:
        return call_result.GetLocalListVersion(version_number=self.station.local_list_version)

    @on("UpdateFirmware")
    def on_update_firmware(
        self, request_id: int, firmware: dict[str, Any], **_: Any
    ) -> call_result.UpdateFirmware:
        accepted = self.update_firmware(
            firmware["location"],
            firmware["retrieve_date_time"],
            install_date=firmware.get("install_date_time"),
            request_id=request_id,
            signed=bool(firmware.get("signature")),
            signature=firmware.get("signature") or "",
            certificate=firmware.get("signing_certificate") or "",
        )
        return call_result.UpdateFirmware(status="Accepted" if accepted else "Rejected")

    @on("GetLog")
    def on_get_log(
        self, log: dict[str, Any], log_type: str, request_id: int, **_: Any
    ) -> call_result.GetLog:
        filename = self.upload_log(log["remote_location"], request_id)
        return call_result.GetLog(status="Accepted", filename=filename)

    @on("SetDisplayMessage")
    def on_set_display_message(
        self, message: dict[str, Any], **_: Any
    ) -> call_result.SetDisplayMessage:
        tx_id = message.get("transaction_id")
        if tx_id is not None and self.station.find_transaction(tx_id) is None:
            return call_result.SetDisplayMessage(status="UnknownTransaction")
        self.station.display_messages[message["id"]] = message
        return call_result.SetDisplayMessage(status="Accepted")

    @on("CostUpdated")
    def on_cost_updated(
        self, total_cost: float, transaction_id: str, **_: Any
    ) -> call_result.CostUpdated:
        """I02: the running cost the driver sees (kept per transaction)."""
        costs = self.__dict__.setdefault("costs", {})
        costs[transaction_id] = total_cost
        return call_result.CostUpdated()

    @on("GetDisplayMessages")
    def on_get_display_messages(
        self,
        request_id: int,
        id: list[int] | None = None,
        priority: str | None = None,
        state: str | None = None,
        **_: Any,
    ) -> call_result.GetDisplayMessages:
        matching = [
            m
            for m in self.station.display_messages.values()
            if (not id or m["id"] in id)
            and (priority is None or m.get("priority") == priority)
            and (state is None or m.get("state") == state)
        ]
        if not matching:
            return call_result.GetDisplayMessages(status="Unknown")
        notify = call.NotifyDisplayMessages(request_id=request_id, message_info=matching)
        self.after_response(lambda: self.station.notify(notify))
        return call_result.GetDisplayMessages(status="Accepted")

    @on("ClearDisplayMessage")
    def on_clear_display_message(self, id: int, **_: Any) -> call_result.ClearDisplayMessage:
        removed = self.station.display_messages.pop(id, None)
        return call_result.ClearDisplayMessage(status="Accepted" if removed else "Unknown")


def _attribute(item: dict[str, Any]) -> dict[str, Any]:
    """What a GetVariables / SetVariables result repeats of its request."""
    return {
        "component": item["component"],
        "variable": item["variable"],
        "attribute_type": item.get("attribute_type", "Actual"),
    }


def _lookup(settings: Any, item: dict[str, Any]) -> Setting | str:
    """The setting a GetVariables / SetVariables item names, or the status saying why not."""
    component, variable = item["component"], item["variable"]
    if component.get("evse") or component.get("instance"):
        return "UnknownComponent"  # every setting here belongs to the station as a whole
    found = settings.find(component["name"], variable["name"], variable.get("instance"))
    if isinstance(found, str) or item.get("attribute_type", "Actual") == "Actual":
        return found
    return "NotSupportedAttributeType"
