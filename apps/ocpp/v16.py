"""OCPP 1.6J adapter: parses what a station sends, hands it to services, answers."""

from __future__ import annotations

from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call_result

from apps.charging import services as charging

from . import services as ocpp_services
from .adapter import AdapterMixin
from .samples import samples_from, signed_from
from .times import now_iso, parse_time

# OCPP 1.6 IdTagInfo knows Accepted, Blocked, Expired, Invalid and ConcurrentTx only: the
# 2.0.1 reasons of a refusal by place or time are told as Blocked (docs/access.md).
STATUS_16 = {"NotAtThisLocation": "Blocked", "NotAtThisTime": "Blocked", "Unknown": "Invalid"}


def _id_tag_info(decision) -> dict[str, Any]:
    info: dict[str, Any] = {"status": STATUS_16.get(decision.status, decision.status)}
    if decision.expires_at:
        info["expiry_date"] = decision.expires_at.isoformat()
    if decision.group_id:
        info["parent_id_tag"] = decision.group_id
    return info


class Adapter16(AdapterMixin, ChargePoint16):
    version = "1.6"

    @on("BootNotification")
    async def on_boot(self, charge_point_vendor: str, charge_point_model: str, **kw):
        status, interval = await self.link.boot(
            vendor=charge_point_vendor,
            model=charge_point_model,
            serial_number=kw.get("charge_point_serial_number")
            or kw.get("charge_box_serial_number")
            or "",
            firmware_version=kw.get("firmware_version") or "",
            iccid=kw.get("iccid") or "",
            imsi=kw.get("imsi") or "",
        )
        self.link.registration_status = status
        return call_result.BootNotification(
            current_time=now_iso(), interval=interval, status=status
        )

    @on("Heartbeat")
    async def on_heartbeat(self):
        return call_result.Heartbeat(current_time=now_iso())

    @on("StatusNotification")
    async def on_status(self, connector_id: int, error_code: str, status: str, **kw):
        await self.link.status(
            evse_id=connector_id,
            status=status,
            occurred_at=parse_time(kw.get("timestamp")),
            error_code="" if error_code == "NoError" else error_code,
            info=kw.get("info") or kw.get("vendor_error_code") or "",
        )
        return call_result.StatusNotification()

    @on("Authorize")
    async def on_authorize(self, id_tag: str):
        decision = await self.link.db(
            charging.authorize, uid=id_tag, station_id=self.link.station_id
        )
        return call_result.Authorize(id_tag_info=_id_tag_info(decision))

    @on("StartTransaction")
    async def on_start_transaction(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **kw
    ):
        session, decision = await self.link.db(
            ocpp_services.transaction_start,
            station_id=self.link.station_id,
            evse_id=connector_id,
            id_token=id_tag,
            meter_start_wh=meter_start,
            started_at=parse_time(timestamp),
            reservation_id=kw.get("reservation_id"),
        )
        return call_result.StartTransaction(
            transaction_id=int(session.transaction_id), id_tag_info=_id_tag_info(decision)
        )

    @on("StopTransaction")
    async def on_stop_transaction(self, meter_stop: int, timestamp: str, transaction_id: int, **kw):
        id_tag = kw.get("id_tag")
        await self.signed_values(kw.get("transaction_data"), None, transaction_id)  # before: CDRs
        decision = await self.link.db(
            ocpp_services.transaction_stop,
            station_id=self.link.station_id,
            transaction_id=str(transaction_id),
            meter_stop_wh=meter_stop,
            ended_at=parse_time(timestamp),
            reason=kw.get("reason") or "Local",
            samples=samples_from(kw.get("transaction_data"), "1.6"),
            id_token=id_tag,
        )
        if decision is None:
            return call_result.StopTransaction()
        return call_result.StopTransaction(id_tag_info=_id_tag_info(decision))

    async def signed_values(self, meter_values, evse_id, transaction_id) -> None:
        """Signed readings go on as they are (an event: roaming's CDRs carry them)."""
        if signed := signed_from(meter_values, "1.6"):
            await self.link.db(
                ocpp_services.signed_values_received,
                station_id=self.link.station_id,
                evse_id=evse_id,
                transaction_id=str(transaction_id) if transaction_id is not None else None,
                signed=signed,
            )

    @on("MeterValues")
    async def on_meter_values(self, connector_id: int, meter_value: list, **kw):
        transaction_id = kw.get("transaction_id")
        await self.signed_values(meter_value, connector_id, transaction_id)
        await self.link.meter_values(
            charging.MeterReport(
                station_id=self.link.station_id,
                evse_id=connector_id,
                samples=samples_from(meter_value, "1.6"),
                transaction_id=str(transaction_id) if transaction_id is not None else None,
            )
        )
        return call_result.MeterValues()

    @on("DataTransfer")
    async def on_data_transfer(self, vendor_id: str, **kw):
        status, data = await self.link.db(
            ocpp_services.data_transfer,
            station_id=self.link.station_id,
            vendor_id=vendor_id,
            message_id=kw.get("message_id") or "",
            data=kw.get("data"),
        )
        return call_result.DataTransfer(status=status, data=data)

    @on("FirmwareStatusNotification")
    async def on_firmware_status(self, status: str):
        await self.link.db(
            ocpp_services.event_record,
            station_id=self.link.station_id,
            kind="firmware",
            action="FirmwareStatusNotification",
            status=status,
        )
        return call_result.FirmwareStatusNotification()

    @on("DiagnosticsStatusNotification")
    async def on_diagnostics_status(self, status: str):
        await self.link.db(
            ocpp_services.event_record,
            station_id=self.link.station_id,
            kind="diagnostics",
            action="DiagnosticsStatusNotification",
            status=status,
        )
        return call_result.DiagnosticsStatusNotification()

    # OCPP 1.6 security whitepaper messages (stations that implement it send these).
    @on("LogStatusNotification")
    async def on_log_status(self, status: str, **kw):
        await self.link.db(
            ocpp_services.event_record,
            station_id=self.link.station_id,
            kind="diagnostics",
            action="LogStatusNotification",
            status=status,
            request_id=kw.get("request_id"),
        )
        return call_result.LogStatusNotification()

    @on("SignedFirmwareStatusNotification")
    async def on_signed_firmware_status(self, status: str, **kw):
        await self.link.db(
            ocpp_services.event_record,
            station_id=self.link.station_id,
            kind="firmware",
            action="SignedFirmwareStatusNotification",
            status=status,
            request_id=kw.get("request_id"),
        )
        return call_result.SignedFirmwareStatusNotification()

    @on("SecurityEventNotification")
    async def on_security_event(self, type: str, timestamp: str, **kw):
        await self.link.db(
            ocpp_services.event_record,
            station_id=self.link.station_id,
            kind="security",
            action="SecurityEventNotification",
            status=type,
            data={"techInfo": kw.get("tech_info"), "timestamp": timestamp},
        )
        return call_result.SecurityEventNotification()

    @on("SignCertificate")
    async def on_sign_certificate(self, csr: str):
        # No certificate authority is configured: say so rather than pretend.
        await self.link.db(
            ocpp_services.event_record,
            station_id=self.link.station_id,
            kind="security",
            action="SignCertificate",
            status="Rejected",
        )
        return call_result.SignCertificate(status="Rejected")
