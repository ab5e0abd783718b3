"""OCPP 1.6J for the simulated station: message builders and the handlers for what the
Central System asks, with the security whitepaper's signed firmware update
(SignedUpdateFirmware, reported in SignedFirmwareStatusNotification).  Actions without a
handler (certificates...) get the library's NotImplemented CallError."""

from __future__ import annotations

from typing import Any

from ocpp.exceptions import NotImplementedError as NotImplementedError_
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result

from .profiles import V16_PURPOSES, profile_from_v16
from .protocol import Protocol, QueuedMessage, StationChargePoint, sampled_values
from .state import Evse, Reading, Reservation, Transaction
from .timeutil import format_time

# 1.6 has no ImmediateReset / GroundFault stop reasons.
REASONS = {"ImmediateReset": "HardReset", "GroundFault": "Other"}
# 1.6 certificate types in 2.0.1's words (the device keeps those).
TYPES_16 = {
    "CentralSystemRootCertificate": "CSMSRootCertificate",
    "ManufacturerRootCertificate": "ManufacturerRootCertificate",
}
# 2.0.1 failures that 1.6 has no word for (failure injection reports them in both versions).
FIRMWARE_STATUS_16 = {
    "InvalidSignature": "InstallationFailed",
    "InstallVerificationFailed": "InstallationFailed",
}
FIRMWARE_STATUSES = {
    "Downloaded",
    "DownloadFailed",
    "Downloading",
    "Idle",
    "InstallationFailed",
    "Installing",
    "Installed",
}
CONTEXTS = {"MeterValuePeriodic": "Sample.Periodic", "Trigger": "Trigger"}


class Ocpp16(Protocol):
    version = "1.6"
    subprotocol = "ocpp1.6"
    call = call

    def charge_point(self, connection: Any) -> ChargePoint16:
        return ChargePoint16(self.station, connection)

    def boot_notification(self, reason: str) -> call.BootNotification:
        config = self.station.config
        return call.BootNotification(
            charge_point_model=config.model[:20],
            charge_point_vendor=config.vendor[:20],
            charge_point_serial_number=(config.serial_number or f"SN-{config.identity}")[:25],
            firmware_version=self.station.firmware_version[:50],
        )

    def status_notifications(
        self, evse: Evse, previous: str | None, force: bool
    ) -> list[call.StatusNotification]:
        return [
            call.StatusNotification(
                connector_id=evse.id,
                error_code=evse.fault or "NoError",
                status=evse.status(),
                timestamp=format_time(self.station.clock.now()),
            )
        ]

    def station_status_notification(self) -> call.StatusNotification:
        operative = any(e.operative for e in self.station.evses.values())
        return call.StatusNotification(
            connector_id=0,
            error_code="NoError",
            status="Available" if operative else "Unavailable",
            timestamp=format_time(self.station.clock.now()),
        )

    def authorize(self, id_tag: str, token_type: str) -> call.Authorize:
        return call.Authorize(id_tag=id_tag)

    def authorize_status(self, result: call_result.Authorize) -> str:
        return result.id_tag_info["status"]

    def transaction_started(
        self, tx: Transaction, evse: Evse, reading: Reading, trigger: str
    ) -> QueuedMessage:
        payload = call.StartTransaction(
            connector_id=evse.id,
            id_tag=tx.id_tag,
            meter_start=tx.meter_start,
            timestamp=format_time(tx.started_at),
            reservation_id=tx.reservation_id,
        )

        def started(result: call_result.StartTransaction) -> None:
            tx.transaction_id = result.transaction_id
            tx.authorization_status = result.id_tag_info["status"]

        return QueuedMessage(build=lambda: payload, on_result=started, transaction=tx)

    def transaction_updated(
        self, tx: Transaction, evse: Evse, reading: Reading, trigger: str
    ) -> QueuedMessage:
        measurands = self.station.settings.get_list("MeterValuesSampledData")
        meter_value = _meter_value(reading, CONTEXTS.get(trigger, "Other"), measurands)

        def build() -> call.MeterValues | None:
            if tx.transaction_id is None:
                return None  # its StartTransaction never went through
            return call.MeterValues(
                connector_id=evse.id, transaction_id=tx.transaction_id, meter_value=[meter_value]
            )

        return QueuedMessage(build=build, transaction=tx, is_sample=True)

    def transaction_ended(
        self, tx: Transaction, evse: Evse, reading: Reading, reason: str
    ) -> QueuedMessage:
        measurands = self.station.settings.get_list("StopTxnSampledData")
        data = [_meter_value(reading, "Transaction.End", measurands)] if measurands else None

        def build() -> call.StopTransaction | None:
            if tx.transaction_id is None:
                return None
            return call.StopTransaction(
                meter_stop=reading.energy_wh,
                timestamp=format_time(reading.at),
                transaction_id=tx.transaction_id,
                reason=REASONS.get(reason, reason),
                id_tag=tx.id_tag,
                transaction_data=data,
            )

        return QueuedMessage(build=build, transaction=tx)

    def meter_values(self, evse: Evse, reading: Reading, context: str) -> call.MeterValues:
        measurands = self.station.settings.get_list("MeterValuesSampledData")
        return call.MeterValues(
            connector_id=evse.id, meter_value=[_meter_value(reading, context, measurands)]
        )

    def firmware_status(
        self, status: str, request_id: int | None
    ) -> call.FirmwareStatusNotification | call.SignedFirmwareStatusNotification | None:
        if request_id is not None:  # a signed update: the whitepaper's words, all of them
            return call.SignedFirmwareStatusNotification(status=status, request_id=request_id)
        status = FIRMWARE_STATUS_16.get(status, status)
        if status not in FIRMWARE_STATUSES:
            return None
        return call.FirmwareStatusNotification(status=status)

    def upload_status(
        self, status: str, request_id: int | None
    ) -> call.DiagnosticsStatusNotification:
        return call.DiagnosticsStatusNotification(
            status="UploadFailed" if status == "Failed" else status
        )

    def reservation_ended(self, reservation: Reservation, how: str) -> None:
        return None  # 1.6 tells the CSMS only through the connector status


def _meter_value(reading: Reading, context: str, measurands: list[str]) -> dict[str, Any]:
    def sample(value: float, measurand: str, unit: str, **extra: str) -> dict[str, Any]:
        return {
            "value": str(value) if isinstance(value, int) else f"{value:.1f}",
            "context": context,
            "format": "Raw",
            "measurand": measurand,
            "location": "Outlet",
            "unit": unit,
            **extra,
        }

    sampled = sampled_values(reading, measurands, sample)
    return {"timestamp": format_time(reading.at), "sampled_value": sampled}


class ChargePoint16(StationChargePoint, ChargePoint):
    call_result = call_result
    parse_profile = staticmethod(profile_from_v16)

    @on("RemoteStartTransaction")
    def on_remote_start(
        self,
        id_tag: str,
        connector_id: int | None = None,
        charging_profile: dict[str, Any] | None = None,
        **_: Any,
    ) -> call_result.RemoteStartTransaction:
        accepted = connector_id != 0 and self.start_remotely(
            connector_id, id_tag, "ISO14443", None, charging_profile
        )
        return call_result.RemoteStartTransaction(status="Accepted" if accepted else "Rejected")

    @on("RemoteStopTransaction")
    def on_remote_stop(self, transaction_id: int, **_: Any) -> call_result.RemoteStopTransaction:
        accepted = self.stop_remotely(transaction_id)
        return call_result.RemoteStopTransaction(status="Accepted" if accepted else "Rejected")

    @on("Reset")
    def on_reset(self, type: str, **_: Any) -> call_result.Reset:
        return call_result.Reset(status=self.reset(type))  # Soft and Hard are always Accepted

    @on("UnlockConnector")
    def on_unlock_connector(self, connector_id: int, **_: Any) -> call_result.UnlockConnector:
        evse = self.station.evses.get(connector_id)
        if evse is None:
            return call_result.UnlockConnector(status="NotSupported")
        self.after_response(lambda: self.station.unlock(evse))
        return call_result.UnlockConnector(status="Unlocked")

    @on("ChangeAvailability")
    def on_change_availability(
        self, connector_id: int, type: str, **_: Any
    ) -> call_result.ChangeAvailability:
        status = self.change_availability(connector_id, type == "Operative")
        return call_result.ChangeAvailability(status=status)

    @on("GetConfiguration")
    def on_get_configuration(
        self, key: list[str] | None = None, **_: Any
    ) -> call_result.GetConfiguration:
        settings = self.station.settings
        visible = {s.key: s for s in settings.visible()}
        wanted = key or list(visible)
        known = [
            {"key": k, "readonly": visible[k].readonly, "value": settings.get(k)}
            for k in wanted
            if k in visible
        ]
        unknown = [k for k in wanted if k not in visible]
        return call_result.GetConfiguration(
            configuration_key=known or None, unknown_key=unknown or None
        )

    @on("ChangeConfiguration")
    def on_change_configuration(
        self, key: str, value: str, **_: Any
    ) -> call_result.ChangeConfiguration:
        return call_result.ChangeConfiguration(status=self.station.settings.change(key, value))

    @on("SetChargingProfile")
    def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any], **_: Any
    ) -> call_result.SetChargingProfile:
        error = self.set_charging_profile(connector_id, cs_charging_profiles)
        return call_result.SetChargingProfile(status="Rejected" if error else "Accepted")

    @on("ClearChargingProfile")
    def on_clear_charging_profile(
        self,
        id: int | None = None,
        connector_id: int | None = None,
        charging_profile_purpose: str | None = None,
        stack_level: int | None = None,
        **_: Any,
    ) -> call_result.ClearChargingProfile:
        status = self.clear_charging_profiles(
            profile_id=id,
            evse_id=connector_id,
            purpose=V16_PURPOSES[charging_profile_purpose] if charging_profile_purpose else None,
            stack_level=stack_level,
        )
        return call_result.ClearChargingProfile(status=status)

    @on("GetCompositeSchedule")
    def on_get_composite_schedule(
        self, connector_id: int, duration: int, charging_rate_unit: str | None = None, **_: Any
    ) -> call_result.GetCompositeSchedule:
        schedule = self.station.composite_schedule(connector_id, duration, charging_rate_unit)
        if schedule is None:
            return call_result.GetCompositeSchedule(status="Rejected")
        start = format_time(schedule.start)
        return call_result.GetCompositeSchedule(
            status="Accepted",
            connector_id=connector_id,
            schedule_start=start,
            charging_schedule={
                "duration": schedule.duration,
                "start_schedule": start,
                "charging_rate_unit": schedule.unit,
                "charging_schedule_period": schedule.period_list(),
            },
        )

    @on("ReserveNow")
    def on_reserve_now(
        self,
        connector_id: int,
        expiry_date: str,
        id_tag: str,
        reservation_id: int,
        parent_id_tag: str | None = None,
        **_: Any,
    ) -> call_result.ReserveNow:
        status = self.reserve(reservation_id, connector_id, id_tag, expiry_date, parent_id_tag)
        return call_result.ReserveNow(status=status)

    # Security whitepaper: roots installed, listed and deleted (types in 2.0.1's words inside).
    @on("InstallCertificate")
    def on_install_certificate(
        self, certificate_type: str, certificate: str, **_: Any
    ) -> call_result.InstallCertificate:
        status = self.station.install_certificate(TYPES_16.get(certificate_type, ""), certificate)
        return call_result.InstallCertificate(status=status)

    @on("GetInstalledCertificateIds")
    def on_get_installed_certificate_ids(
        self, certificate_type: str, **_: Any
    ) -> call_result.GetInstalledCertificateIds:
        held = self.station.installed_certificate_ids([TYPES_16.get(certificate_type, "")])
        if not held:
            return call_result.GetInstalledCertificateIds(status="NotFound")
        return call_result.GetInstalledCertificateIds(
            status="Accepted", certificate_hash_data=[data for _kind, data in held]
        )

    @on("DeleteCertificate")
    def on_delete_certificate(
        self, certificate_hash_data: dict[str, Any], **_: Any
    ) -> call_result.DeleteCertificate:
        return call_result.DeleteCertificate(
            status=self.station.delete_certificate(certificate_hash_data)
        )

    @on("SendLocalList")
    def on_send_local_list(
        self,
        list_version: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> call_result.SendLocalList:
        entries = [
            (item["id_tag"], (item.get("id_tag_info") or {}).get("status"))
            for item in local_authorization_list or []
        ]
        status = self.station.update_local_list(list_version, update_type == "Full", entries)
        return call_result.SendLocalList(status=status)

    @on("GetLocalListVersion")
    def on_get_local_list_version(self, **_: Any) -> call_result.GetLocalListVersion:
        station = self.station
        enabled = station.settings.get_bool("LocalAuthListEnabled")
        return call_result.GetLocalListVersion(
            list_version=station.local_list_version if enabled else -1
        )

    @on("UpdateFirmware")
    def on_update_firmware(
        self, location: str, retrieve_date: str, **_: Any
    ) -> call_result.UpdateFirmware:
        self.update_firmware(location, retrieve_date)  # 1.6 has no answer for "busy"
        return call_result.UpdateFirmware()

    @on("SignedUpdateFirmware")
    def on_signed_update_firmware(
        self, request_id: int, firmware: dict[str, Any], **_: Any
    ) -> call_result.SignedUpdateFirmware:
        """Security whitepaper: the 2.0.1 shape; the signature is checked after download."""
        if not self.station.config.signed_firmware_16:
            raise NotImplementedError_(details={"cause": "No signed firmware update"})
        accepted = self.update_firmware(
            firmware["location"],
            firmware["retrieve_date_time"],
            install_date=firmware.get("install_date_time"),
            request_id=request_id,
            signed=True,
            signature=firmware.get("signature") or "",
            certificate=firmware.get("signing_certificate") or "",
        )
        return call_result.SignedUpdateFirmware(status="Accepted" if accepted else "Rejected")

    @on("GetDiagnostics")
    def on_get_diagnostics(self, location: str, **_: Any) -> call_result.GetDiagnostics:
        return call_result.GetDiagnostics(file_name=self.upload_log(location, None))

    @on("TriggerMessage")
    def on_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> call_result.TriggerMessage:
        return call_result.TriggerMessage(status=self.trigger(requested_message, connector_id))
