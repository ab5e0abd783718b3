"""OCPP 2.0.1 adapter: parses what a station sends, hands it to services, answers."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ocpp.routing import after, on
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call_result

from apps.charging import services as charging

from . import payloads
from . import services as ocpp_services
from .adapter import AdapterMixin, StationCallError
from .models import StationEvent
from .samples import samples_from, signed_from
from .times import now_iso, parse_time

Kind = StationEvent.Kind
logger = logging.getLogger(__name__)
GAP_CHECK_TIMEOUT = 30.0
GAP_CHECKS = 5  # GetTransactionStatus while the station says the events are still queued
GAP_RECHECK_SECONDS = 2.0


def _id_token_info(decision) -> dict[str, Any]:
    info: dict[str, Any] = {"status": decision.status}
    if decision.expires_at:
        info["cache_expiry_date_time"] = decision.expires_at.isoformat()
    if decision.group_id:
        info["group_id_token"] = {"id_token": decision.group_id, "type": "Central"}
    return info


class Adapter201(AdapterMixin, ChargePoint201):
    version = "2.0.1"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.gaps: set[str] = set()  # transactions with a seqNo gap to ask about
        self.follow_ups: dict[str, Any] = {}  # work promised by an answer
        self.background: set[asyncio.Task] = set()  # follow-ups that wait on this station

    async def _event(self, kind: str, action: str, status: str = "", request_id=None, **data):
        await self.link.db(
            ocpp_services.event_record,
            station_id=self.link.station_id,
            kind=kind,
            action=action,
            status=status,
            request_id=request_id,
            data=data,
        )

    @on("BootNotification")
    async def on_boot(self, charging_station: dict, reason: str, **kw):
        modem = charging_station.get("modem") or {}
        status, interval = await self.link.boot(
            vendor=charging_station.get("vendor_name", ""),
            model=charging_station.get("model", ""),
            serial_number=charging_station.get("serial_number") or "",
            firmware_version=charging_station.get("firmware_version") or "",
            iccid=modem.get("iccid") or "",
            imsi=modem.get("imsi") or "",
        )
        self.link.registration_status = status
        return call_result.BootNotification(
            current_time=now_iso(), interval=interval, status=status
        )

    @on("Heartbeat")
    async def on_heartbeat(self):
        return call_result.Heartbeat(current_time=now_iso())

    @on("StatusNotification")
    async def on_status(
        self, timestamp: str, connector_status: str, evse_id: int, connector_id: int, **kw
    ):
        await self.link.status(
            evse_id=evse_id,
            status=connector_status,
            occurred_at=parse_time(timestamp),
        )
        return call_result.StatusNotification()

    @on("Authorize")
    async def on_authorize(self, id_token: dict, **kw):
        certificate = kw.get("certificate")
        hash_data = kw.get("iso15118_certificate_hash_data")
        if certificate or hash_data:  # C07: a contract, its certificate checked first
            answer = await self.link.db(
                ocpp_services.contract_authorize,
                station_id=self.link.station_id,
                uid=id_token.get("id_token", ""),
                token_type=id_token.get("type", ""),
                certificate=certificate,
                hash_data=hash_data,
            )
            if answer.certificate_status:
                return call_result.Authorize(
                    id_token_info=_id_token_info(answer.decision),
                    certificate_status=answer.certificate_status,
                )
            return call_result.Authorize(id_token_info=_id_token_info(answer.decision))
        decision = await self.link.db(
            charging.authorize,
            uid=id_token.get("id_token", ""),
            token_type=id_token.get("type", ""),
            station_id=self.link.station_id,
        )
        return call_result.Authorize(id_token_info=_id_token_info(decision))

    @on("TransactionEvent")
    async def on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        trigger_reason: str,
        seq_no: int,
        transaction_info: dict,
        **kw,
    ):
        evse = kw.get("evse") or {}
        token = kw.get("id_token") or {}
        signed = (kw.get("meter_value"), evse.get("id"), transaction_info["transaction_id"])
        if event_type == "Ended":
            await self.signed_values(*signed)  # before the end: the CDR carries them
        session, decision, gap = await self.link.db(
            ocpp_services.transaction_event,
            station_id=self.link.station_id,
            event_type=event_type,
            occurred_at=parse_time(timestamp),
            transaction_id=transaction_info["transaction_id"],
            evse_id=evse.get("id"),
            connector_id=evse.get("connector_id"),
            id_token=token.get("id_token"),
            token_type=token.get("type", ""),
            charging_state=transaction_info.get("charging_state"),
            stopped_reason=transaction_info.get("stopped_reason"),
            remote_start_id=transaction_info.get("remote_start_id"),
            reservation_id=kw.get("reservation_id"),
            samples=samples_from(kw.get("meter_value"), "2.0.1"),
            trigger_reason=trigger_reason,
            seq_no=seq_no,
        )
        if gap:
            self.gaps.add(transaction_info["transaction_id"])
        if event_type != "Ended":
            await self.signed_values(*signed)
        answer: dict[str, Any] = {}
        if decision is not None:
            answer["id_token_info"] = _id_token_info(decision)
        if event_type == "Ended" and session is not None:
            cost = await self.link.db(ocpp_services.transaction_cost, session_id=session.pk)
            if cost is not None:
                answer["total_cost"] = float(cost.total)
                if cost.message:
                    answer["updated_personal_message"] = {
                        "format": "UTF8",
                        "content": cost.message[:512],
                    }
        return call_result.TransactionEvent(**answer)

    @after("TransactionEvent")
    async def after_transaction_event(self, transaction_info: dict, **kw):
        """A seqNo gap: ask the station (after answering it) and reconcile (services)."""
        transaction_id = transaction_info["transaction_id"]
        if transaction_id not in self.gaps:
            return
        self.gaps.discard(transaction_id)
        # Still queued: asked again a little later (the station may be sending it right now,
        # or may have nothing more to send for it).
        for attempt in range(GAP_CHECKS):
            if attempt:
                await asyncio.sleep(GAP_RECHECK_SECONDS)
            try:
                answer = await self.send_call(
                    "GetTransactionStatus", {"transactionId": transaction_id}, GAP_CHECK_TIMEOUT
                )
            except (StationCallError, TimeoutError) as error:
                logger.info("%s: GetTransactionStatus for %s: %s", self.id, transaction_id, error)
                return
            queued = bool(answer.get("messagesInQueue"))
            await self.link.db(
                ocpp_services.transaction_gap_reconcile,
                station_id=self.link.station_id,
                transaction_id=transaction_id,
                ongoing=answer.get("ongoingIndicator"),
                messages_in_queue=queued,
            )
            if not queued:
                return

    async def signed_values(self, meter_values, evse_id, transaction_id) -> None:
        """Signed readings go on as they are (an event: roaming's CDRs carry them)."""
        if signed := signed_from(meter_values, "2.0.1"):
            await self.link.db(
                ocpp_services.signed_values_received,
                station_id=self.link.station_id,
                evse_id=evse_id,
                transaction_id=transaction_id,
                signed=signed,
            )

    @on("MeterValues")
    async def on_meter_values(self, evse_id: int, meter_value: list, **kw):
        await self.signed_values(meter_value, evse_id, None)
        await self.link.meter_values(
            charging.MeterReport(
                station_id=self.link.station_id,
                evse_id=evse_id,
                samples=samples_from(meter_value, "2.0.1"),
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
    async def on_firmware_status(self, status: str, **kw):
        await self._event(Kind.FIRMWARE, "FirmwareStatusNotification", status, kw.get("request_id"))
        return call_result.FirmwareStatusNotification()

    @on("PublishFirmwareStatusNotification")
    async def on_publish_firmware_status(self, status: str, **kw):
        await self._event(
            Kind.FIRMWARE, "PublishFirmwareStatusNotification", status, kw.get("request_id")
        )
        return call_result.PublishFirmwareStatusNotification()

    @on("LogStatusNotification")
    async def on_log_status(self, status: str, **kw):
        await self._event(Kind.DIAGNOSTICS, "LogStatusNotification", status, kw.get("request_id"))
        return call_result.LogStatusNotification()

    @on("SecurityEventNotification")
    async def on_security_event(self, type: str, timestamp: str, **kw):
        await self._event(
            Kind.SECURITY,
            "SecurityEventNotification",
            type,
            tech_info=kw.get("tech_info"),
            timestamp=timestamp,
        )
        return call_result.SecurityEventNotification()

    @on("NotifyReport")
    async def on_notify_report(self, request_id: int, generated_at: str, seq_no: int, **kw):
        limits = payloads.report_limits(kw.get("report_data") or [])
        if limits:  # B06-B08: what later requests to this station are split to
            await self.link.db(
                ocpp_services.message_limits_reported,
                station_id=self.link.station_id,
                limits=limits,
            )
        await self._event(
            Kind.REPORT,
            "NotifyReport",
            "",
            request_id,
            seq_no=seq_no,
            tbc=kw.get("tbc", False),
            report_data=kw.get("report_data") or [],
        )
        return call_result.NotifyReport()

    @on("NotifyMonitoringReport")
    async def on_notify_monitoring_report(
        self, request_id: int, seq_no: int, generated_at: str, **kw
    ):
        await self._event(
            Kind.REPORT,
            "NotifyMonitoringReport",
            "",
            request_id,
            seq_no=seq_no,
            monitor=kw.get("monitor") or [],
        )
        return call_result.NotifyMonitoringReport()

    @on("NotifyEvent")
    async def on_notify_event(self, generated_at: str, seq_no: int, event_data: list, **kw):
        await self._event(Kind.EVENT, "NotifyEvent", "", seq_no=seq_no, event_data=event_data)
        return call_result.NotifyEvent()

    @on("ReservationStatusUpdate")
    async def on_reservation_status(self, reservation_id: int, reservation_update_status: str):
        await self._event(
            Kind.RESERVATION, "ReservationStatusUpdate", reservation_update_status, reservation_id
        )
        return call_result.ReservationStatusUpdate()

    @on("NotifyChargingLimit")
    async def on_notify_charging_limit(self, charging_limit: dict, **kw):
        await self._event(
            Kind.CHARGING,
            "NotifyChargingLimit",
            charging_limit.get("charging_limit_source", ""),
            evse_id=kw.get("evse_id"),
            charging_schedule=kw.get("charging_schedule"),
        )
        return call_result.NotifyChargingLimit()

    @on("ClearedChargingLimit")
    async def on_cleared_charging_limit(self, charging_limit_source: str, **kw):
        await self._event(
            Kind.CHARGING, "ClearedChargingLimit", charging_limit_source, evse_id=kw.get("evse_id")
        )
        return call_result.ClearedChargingLimit()

    @on("NotifyEVChargingNeeds")
    async def on_ev_charging_needs(
        self, charging_needs: dict, evse_id: int, call_unique_id: str, **kw
    ):
        answer = await self.link.db(
            ocpp_services.ev_charging_needs,
            station_id=self.link.station_id,
            evse_id=evse_id,
            needs=charging_needs,
            max_schedule_tuples=kw.get("max_schedule_tuples"),
        )
        if answer.follow_up is not None:
            self.follow_ups[call_unique_id] = answer.follow_up
        return call_result.NotifyEVChargingNeeds(status=answer.status)

    @after("NotifyEVChargingNeeds")
    async def after_ev_charging_needs(self, call_unique_id: str, **kw):
        await self._follow_up(call_unique_id)

    @on("NotifyEVChargingSchedule")
    async def on_ev_charging_schedule(
        self, time_base: str, charging_schedule: dict, evse_id: int, call_unique_id: str, **kw
    ):
        answer = await self.link.db(
            ocpp_services.ev_charging_schedule,
            station_id=self.link.station_id,
            evse_id=evse_id,
            schedule={**charging_schedule, "time_base": time_base},
        )
        if answer.follow_up is not None:
            self.follow_ups[call_unique_id] = answer.follow_up
        return call_result.NotifyEVChargingSchedule(status=answer.status)

    @after("NotifyEVChargingSchedule")
    async def after_ev_charging_schedule(self, call_unique_id: str, **kw):
        await self._follow_up(call_unique_id)

    async def _follow_up(self, call_unique_id: str) -> None:
        """What an answer promised (a SetChargingProfile), once the answer has been sent.  Kept
        by the CALL's id: two notifications for one EVSE never share (or lose) a follow-up."""
        follow_up = self.follow_ups.pop(call_unique_id, None)
        if follow_up is not None:
            await self.link.db(ocpp_services.follow_up_run, follow_up=follow_up)

    @on("ReportChargingProfiles")
    async def on_report_charging_profiles(
        self,
        request_id: int,
        charging_limit_source: str,
        charging_profile: list,
        evse_id: int,
        **kw,
    ):
        await self._event(
            Kind.CHARGING,
            "ReportChargingProfiles",
            charging_limit_source,
            request_id,
            evse_id=evse_id,
            charging_profile=charging_profile,
        )
        return call_result.ReportChargingProfiles()

    @on("NotifyDisplayMessages")
    async def on_notify_display_messages(self, request_id: int, **kw):
        await self._event(
            Kind.OTHER,
            "NotifyDisplayMessages",
            "",
            request_id,
            message_info=kw.get("message_info") or [],
        )
        return call_result.NotifyDisplayMessages()

    @on("NotifyCustomerInformation")
    async def on_notify_customer_information(
        self, data: str, seq_no: int, generated_at: str, request_id: int, **kw
    ):
        await self._event(Kind.OTHER, "NotifyCustomerInformation", "", request_id, data=data)
        return call_result.NotifyCustomerInformation()

    # Certificates (ISO 15118): a feature app answers through policies; without one the CSMS
    # operates no CA and says so (Rejected / Failed).
    @on("SignCertificate")
    async def on_sign_certificate(self, csr: str, **kw):
        answer = await self.link.db(
            ocpp_services.certificate_sign,
            station_id=self.link.station_id,
            csr=csr,
            certificate_type=kw.get("certificate_type") or "ChargingStationCertificate",
        )
        if answer.follow_up is not None:
            self.follow_ups[("sign", 0)] = answer.follow_up
        return call_result.SignCertificate(status=answer.status)

    @after("SignCertificate")
    async def after_sign_certificate(self, **kw):
        """CertificateSigned goes out once the answer has: in the background, since it waits
        for the station's own answer on this very connection."""
        follow_up = self.follow_ups.pop(("sign", 0), None)
        if follow_up is not None:
            task = asyncio.create_task(
                self.link.db(ocpp_services.follow_up_run, follow_up=follow_up)
            )
            self.background.add(task)
            task.add_done_callback(self.background.discard)

    @on("Get15118EVCertificate")
    async def on_get_15118_ev_certificate(
        self, iso15118_schema_version: str, action: str, exi_request: str, **kw
    ):
        answer = await self.link.db(
            ocpp_services.ev_certificate,
            station_id=self.link.station_id,
            schema_version=iso15118_schema_version,
            action=action,
            exi_request=exi_request,
            extra=kw,
        )
        return call_result.Get15118EVCertificate(
            status=answer["status"], exi_response=answer.get("exi_response", "")
        )

    @on("GetCertificateStatus")
    async def on_get_certificate_status(self, ocsp_request_data: dict, **kw):
        answer = await self.link.db(
            ocpp_services.certificate_status,
            station_id=self.link.station_id,
            ocsp_request=ocsp_request_data,
        )
        if answer.get("ocsp_result"):
            return call_result.GetCertificateStatus(
                status=answer["status"], ocsp_result=answer["ocsp_result"]
            )
        return call_result.GetCertificateStatus(status=answer["status"])
