"""The OpenADR 2.0b adapter: one exchange with a VTN per call, over openleadr's client.

Narrow interface: ``fetch(connection)`` registers if needed and returns the VTN's current
events (parsed into plain records) and registration state; ``report(connection, reports)``
sends our opt in/out answers (``oadrCreatedEvent``). Nothing here touches the database: the
poll task runs these with ``asyncio.run`` between the services that read and write.

We use openleadr's message building, XML schema and signature checks and transport, but not
its long-running ``run()`` loop: one short exchange per poll, driven by Celery beat, is easier
to supervise (a stuck VEN is one task that times out, not a process to babysit) and keeps no
state in memory: the VTN's full event list (``oadrRequestEvent``) is read every time.

TLS: a client certificate and key (PEM, as stored on the VEN) are written to a private
temporary directory for the length of the exchange, because openleadr (and ``ssl``) load
certificates from files. The VTN's server certificate is checked against its CA; its XML
signatures against its certificate fingerprint when one is configured.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

logger = logging.getLogger(__name__)

MAX_POLL_MESSAGES = 5  # queued messages read per exchange (the next poll reads the rest)


class Unreachable(Exception):
    """The VTN did not answer, or answered with something that did not validate."""


@dataclass(frozen=True)
class Connection:
    vtn_url: str
    ven_name: str
    ven_id: str = ""
    registration_id: str = ""
    client_cert_pem: str = ""
    client_key_pem: str = ""
    vtn_ca_pem: str = ""
    vtn_fingerprint: str = ""


@dataclass(frozen=True)
class EventMessage:
    event_id: str
    modification_number: int
    status: str
    priority: int
    signal_name: str
    signal_type: str
    value: Decimal | None  # the most demanding payload across the signal's intervals
    starts_at: datetime
    duration: timedelta  # 0: open-ended
    ramp_up: timedelta
    recovery: timedelta
    start_after: timedelta
    response_required: bool
    # Each interval of the signal: (offset from starts_at, duration (0: open-ended), payload).
    intervals: tuple[tuple[timedelta, timedelta, Decimal | None], ...] = ()


@dataclass
class Fetched:
    ven_id: str
    registration_id: str
    poll_seconds: int | None
    events: list[EventMessage]
    registered_now: bool = False
    deregistered: bool = False  # the VTN cancelled our registration or asked us to re-register
    report_requests: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class OptReport:
    event_id: str
    modification_number: int
    opt: str  # "optIn" / "optOut"


@contextmanager
def _files(connection: Connection) -> Iterator[dict[str, str | None]]:
    if not connection.client_cert_pem:
        yield {"cert": None, "key": None, "ca_file": None}
        return
    with tempfile.TemporaryDirectory(prefix="ven-") as folder:
        paths = {}
        for name, text in (
            ("cert", connection.client_cert_pem),
            ("key", connection.client_key_pem),
            ("ca_file", connection.vtn_ca_pem),
        ):
            path = os.path.join(folder, f"{name}.pem")
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(text)
            paths[name] = path
        yield paths


@contextmanager
def _client(connection: Connection):
    from openleadr import OpenADRClient  # noqa: PLC0415 -- lazy: openleadr is heavy

    with _files(connection) as paths, redirect_stdout(StringIO()):
        # (openleadr prints every request it makes to stdout)
        client = OpenADRClient(
            ven_name=connection.ven_name,
            vtn_url=connection.vtn_url,
            ven_id=connection.ven_id or None,
            vtn_fingerprint=connection.vtn_fingerprint or None,
            show_fingerprint=False,
            # XML signatures need the same key pair; without one, messages go unsigned.
            disable_signature=not connection.client_cert_pem,
            **paths,
        )
        client.registration_id = connection.registration_id or None
        yield client


def _pair(answer: Any) -> tuple[str | None, dict[str, Any]]:
    """openleadr answers (type, payload), (None, {}) on failure, or None on an empty body."""
    if not answer:
        return None, {}
    return answer[0], answer[1] or {}


async def _close(client) -> None:
    if client.client_session is not None:
        await client.client_session.close()


def _seconds(value: Any) -> timedelta:
    if value is None:
        return timedelta(0)
    if isinstance(value, timedelta):
        return value
    return timedelta(seconds=float(value))


def _payload(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def parse_event(raw: dict[str, Any]) -> EventMessage:
    """An openleadr event dict as a record (first signal; payload: the most demanding)."""
    descriptor = raw["event_descriptor"]
    period = raw["active_period"]
    signals = raw.get("event_signals") or [{}]
    signal = signals[0]
    intervals = _intervals(signal.get("intervals") or [], period["dtstart"])
    values = [value for _offset, _duration, value in intervals if value is not None]
    name, kind = signal.get("signal_name", ""), signal.get("signal_type", "")
    if values:
        # levels: the highest is the most demanding; kW targets: the lowest
        value = max(values) if kind == "level" else min(values)
    else:
        value = _payload(signal.get("current_value"))
    tolerance = ((period.get("tolerance") or {}).get("tolerate") or {}).get("startafter")
    return EventMessage(
        event_id=str(descriptor["event_id"]),
        modification_number=int(descriptor.get("modification_number") or 0),
        status=str(descriptor.get("event_status") or "none"),
        priority=int(descriptor.get("priority") or 0),
        signal_name=str(name),
        signal_type=str(kind),
        value=value,
        starts_at=period["dtstart"],
        duration=_seconds(period.get("duration")),
        # (openleadr parses x-eiRampUp / x-eiRecovery as ramp_up / recovery)
        ramp_up=_seconds(period.get("ramp_up", period.get("ramp_up_period"))),
        recovery=_seconds(period.get("recovery", period.get("recovery_period"))),
        start_after=_seconds(tolerance),
        response_required=raw.get("response_required", "always") == "always",
        intervals=intervals,
    )


def _intervals(raw: list[dict[str, Any]], dtstart: datetime) -> tuple:
    """(offset from the event's dtstart, duration, payload) per interval. An interval's start
    is its own ``dtstart`` when the VTN sends one (openleadr does), else the end of the one
    before it (the 2.0b rule: intervals follow each other from the active period's start)."""
    result = []
    offset = timedelta(0)
    for interval in raw:  # in the order sent (the 2.0b order of the intervals)
        if isinstance(interval.get("dtstart"), datetime):
            offset = interval["dtstart"] - dtstart
        duration = _seconds(interval.get("duration"))
        result.append((offset, duration, _payload(interval.get("signal_payload"))))
        offset += duration
    return tuple(sorted(result, key=lambda item: item[0]))


async def fetch(connection: Connection) -> Fetched:
    """Register (when we have no registration), read queued messages, read every event."""
    with _client(connection) as client:
        try:
            return await _fetch(client)
        finally:
            await _close(client)


async def _fetch(client) -> Fetched:
    registered_now = False
    poll_seconds = None
    if not client.registration_id:
        answer = await client.create_party_registration(ven_id=client.ven_id)
        if not answer or not client.registration_id:
            raise Unreachable("registration failed: no registration from the VTN")
        registered_now = True
        frequency = answer[1].get("requested_oadr_poll_freq")
        if frequency is not None:
            poll_seconds = int(_seconds(frequency).total_seconds())
    fetched = Fetched(client.ven_id, client.registration_id, poll_seconds, [], registered_now)
    for _ in range(MAX_POLL_MESSAGES):
        kind, payload = _pair(await client.poll())
        if kind is None:
            raise Unreachable("no valid answer to oadrPoll")
        if kind == "oadrResponse":
            break
        if kind in ("oadrRequestReregistration", "oadrCancelPartyRegistration"):
            fetched.deregistered = True
            if kind == "oadrRequestReregistration":
                await client.send_response(service="EiRegisterParty")
            else:
                await client.on_cancel_party_registration(payload)
            return fetched
        if kind == "oadrCreateReport":
            fetched.report_requests.extend(payload.get("report_requests") or [])
        # oadrDistributeEvent: the full list is read below anyway
    kind, payload = _pair(await client.request_event())
    if kind is None:
        raise Unreachable("no valid answer to oadrRequestEvent")
    if kind == "oadrDistributeEvent":
        fetched.events = [parse_event(raw) for raw in payload.get("events") or []]
    return fetched


async def report(connection: Connection, reports: list[OptReport]) -> list[OptReport]:
    """Tell the VTN whether we take part in each event (``oadrCreatedEvent``); returns the
    reports the VTN acknowledged."""
    if not reports:
        return []
    from openleadr import utils  # noqa: PLC0415 -- lazy: openleadr is heavy

    with _client(connection) as client:
        try:
            request_id = utils.generate_id()
            message = client._create_message(
                "oadrCreatedEvent",
                response={
                    "response_code": 200,
                    "response_description": "OK",
                    "request_id": request_id,
                },
                event_responses=[
                    {
                        "response_code": 200,
                        "response_description": "OK",
                        "request_id": request_id,
                        "event_id": item.event_id,
                        "modification_number": item.modification_number,
                        "opt_type": item.opt,
                    }
                    for item in reports
                ],
                ven_id=client.ven_id,
            )
            kind, payload = _pair(await client._perform_request("EiEvent", message))
        finally:
            await _close(client)
    if kind is None:
        raise Unreachable("no valid answer to oadrCreatedEvent")
    code = (payload.get("response") or {}).get("response_code")
    if code not in (None, 200, "200"):
        logger.warning("The VTN refused our event responses: %s", payload.get("response"))
        return []
    return reports


def fingerprint(certificate_pem: str) -> str:
    """The OpenADR fingerprint of a certificate (what a VTN registers for a VEN)."""
    from openleadr.utils import certificate_fingerprint  # noqa: PLC0415 -- lazy: openleadr is heavy

    return certificate_fingerprint(certificate_pem)


# --- Telemetry: the site's load in 15-minute intervals (TELEMETRY_USAGE, real power in W) ------

REPORT_GRANULARITY = timedelta(minutes=15)


@dataclass(frozen=True)
class ReportRequest:
    report_request_id: str
    granularity: timedelta


def _no_values(date_from=None, date_to=None, sampling_interval=None) -> list:
    return []  # values are sent by ``update_report``, never collected by openleadr's scheduler


async def register_reports(
    connection: Connection, *, specifier_id: str, r_id: str, resource_id: str
) -> list[ReportRequest]:
    """Offer our telemetry report (``oadrRegisterReport``); returns what the VTN requested
    (and acknowledges it with ``oadrCreatedReport``)."""
    from openleadr import enums, utils  # noqa: PLC0415 -- lazy: openleadr is heavy

    with _client(connection) as client:
        try:
            client.add_report(
                callback=_no_values,
                resource_id=resource_id,
                measurement=enums.MEASUREMENTS.REAL_POWER,
                data_collection_mode="full",
                report_specifier_id=specifier_id,
                r_id=r_id,
                sampling_rate=REPORT_GRANULARITY,
                report_duration=timedelta(days=1),  # how far back we can report
                unit="W",
            )
            request_id = utils.generate_id()
            for item in client.reports:
                item.created_date_time = datetime.now(UTC)
                utils.setmember(item, "report_request_id", 0)
            message = client._create_message(
                "oadrRegisterReport",
                request_id=request_id,
                ven_id=client.ven_id,
                reports=client.reports,
                report_request_id=0,
            )
            kind, payload = _pair(await client._perform_request("EiReport", message))
            if kind is None:
                raise Unreachable("no valid answer to oadrRegisterReport")
            requests = parse_report_requests(payload.get("report_requests") or [], specifier_id)
            if requests:
                answer = (payload.get("response") or {}).get("request_id") or request_id
                created = client._create_message(
                    "oadrCreatedReport",
                    response={
                        "response_code": 200,
                        "response_description": "OK",
                        "request_id": answer,
                    },
                    ven_id=client.ven_id,
                    pending_reports=[
                        {"report_request_id": item.report_request_id} for item in requests
                    ],
                )
                await client._perform_request("EiReport", created)
            return requests
        finally:
            await _close(client)


def parse_report_requests(raw: list[dict[str, Any]], specifier_id: str) -> list[ReportRequest]:
    requests = []
    for item in raw:
        specifier = item.get("report_specifier") or {}
        if specifier.get("report_specifier_id") != specifier_id:
            continue
        granularity = _seconds(specifier.get("granularity")) or REPORT_GRANULARITY
        requests.append(ReportRequest(str(item["report_request_id"]), granularity))
    return requests


async def update_report(
    connection: Connection,
    *,
    request: ReportRequest,
    specifier_id: str,
    r_id: str,
    intervals: list[tuple[datetime, int]],
) -> bool:
    """Send load intervals (start, watts) for a report request (``oadrUpdateReport``)."""
    from openleadr import enums, objects, utils  # noqa: PLC0415 -- lazy: openleadr is heavy

    if not intervals:
        return True
    report = objects.Report(
        report_request_id=request.report_request_id,
        report_specifier_id=specifier_id,
        report_name=enums.REPORT_NAME.TELEMETRY_USAGE,
        dtstart=intervals[0][0],
        duration=REPORT_GRANULARITY * len(intervals),
        intervals=[
            objects.ReportInterval(
                dtstart=start,
                duration=REPORT_GRANULARITY,
                report_payload=objects.ReportPayload(r_id=r_id, value=float(watts)),
            )
            for start, watts in intervals
        ],
    )
    with _client(connection) as client:
        try:
            message = client._create_message(
                "oadrUpdateReport",
                ven_id=client.ven_id,
                request_id=utils.generate_id(),
                reports=[report],
            )
            kind, _payload = _pair(await client._perform_request("EiReport", message))
        finally:
            await _close(client)
    if kind is None:
        raise Unreachable("no valid answer to oadrUpdateReport")
    return kind == "oadrUpdatedReport"
