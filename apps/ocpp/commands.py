"""Commands to stations, from any process: views, API, Celery tasks, other apps.

Two layers.  The command service (``station_reset`` ... ``session_remote_start``, below) is what
the portal and the API call: permission, payload, audit entry and a typed ``CommandReply``.
``station_call`` is the transport underneath, for apps that talk to stations on their own
account (power, billing displays).

A command goes to the station's channel-layer group; whichever ASGI process holds the
station's websocket acknowledges at once (so a station nobody holds is reported offline in
about a second, not after the full timeout), sends the CALL when the connection's previous
CALL has been answered (one outstanding CALL per connection), and replies with the station's
answer.  ``station_call`` is the sync entry point; ``station_call_async`` the async one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.scoping import Actor
from apps.stations import services as stations
from apps.stations.passwords import generate_station_password, validate_station_password

from . import payloads
from .adapter import NOT_SENT_CODE, sendable_while_not_accepted

ACK_TIMEOUT = 3.0


class CommandError(Exception):
    """A command could not be carried out; ``str()`` is a message for people."""


class StationOffline(CommandError):
    pass


class CommandTimeout(CommandError):
    pass


class CommandRejected(CommandError):
    def __init__(self, code: str, description: str = "") -> None:
        super().__init__(f"The station answered {code}: {description}".strip(": "))
        self.code, self.description = code, description


class StationNotAccepted(CommandError):
    """The station's boot is Pending or Rejected: only what OCPP allows then is sent
    (2.0.1 B02.FR.01: variables and reports, TriggerMessage; 1.6: configuration)."""


class InvalidPayload(CommandError):
    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['path']}: {e['message']}" for e in errors))
        self.errors = errors


def station_group(schema_name: str, station_id: int) -> str:
    return f"ocpp.{schema_name}.{station_id}"


def validate_action_payload(version: str, action: str, payload: dict[str, Any]) -> None:
    """Check a CSMS → station payload against the version's JSON schema before sending."""
    from jsonschema import Draft4Validator
    from ocpp.messages import MessageType, get_validator

    if version not in ("1.6", "2.0.1"):
        raise InvalidPayload([{"path": "", "message": f"Unknown OCPP version {version!r}"}])
    if not isinstance(payload, dict):
        raise InvalidPayload([{"path": "", "message": "The payload must be a JSON object"}])
    try:
        validator = get_validator(MessageType.Call, action, version)
    except (OSError, ValueError):
        raise InvalidPayload(
            [{"path": "action", "message": f"{action} is not an OCPP {version} action"}]
        ) from None
    schema_validator = Draft4Validator(validator.schema)
    if version == "1.6" and action in ("SetChargingProfile", "RemoteStartTransaction"):
        # These schemas use multipleOf 0.1 and are loaded with Decimal (see apps.ocpp.apps).
        payload = json.loads(json.dumps(payload), parse_float=Decimal)
    errors = [
        {"path": "/".join(str(p) for p in error.absolute_path), "message": error.message}
        for error in sorted(schema_validator.iter_errors(payload), key=lambda e: list(e.path))
    ]
    if errors:
        raise InvalidPayload(errors)


async def station_call_async(
    *,
    schema_name: str,
    station_id: int,
    action: str,
    payload: dict[str, Any],
    timeout: float | None = None,
) -> dict[str, Any]:
    layer = get_channel_layer()
    timeout = timeout or settings.OCPP_RESPONSE_TIMEOUT
    reply_to = await layer.new_channel("ocpp.reply.")
    try:
        await layer.group_send(
            station_group(schema_name, station_id),
            {
                "type": "ocpp.command",
                "action": action,
                "payload": payload,
                "reply_to": reply_to,
                "timeout": timeout,
            },
        )
        try:
            first = await asyncio.wait_for(layer.receive(reply_to), ACK_TIMEOUT)
        except TimeoutError:
            raise StationOffline("The station is not connected.") from None
        reply = first
        if first["type"] == "ocpp.ack":
            try:
                reply = await asyncio.wait_for(layer.receive(reply_to), timeout + 5)
            except TimeoutError:
                raise CommandTimeout("The station did not answer in time.") from None
    finally:
        await _release(layer, reply_to)
    if reply.get("ok"):
        return reply["payload"]
    error = reply.get("error")
    if error == "timeout":
        raise CommandTimeout(f"The station did not answer {action} within {timeout:g} s.")
    if error == "rejected" and reply.get("code") == NOT_SENT_CODE:
        raise StationNotAccepted(reply.get("description", ""))
    if error == "rejected":
        raise CommandRejected(reply.get("code", "GenericError"), reply.get("description", ""))
    if error == "invalid":
        raise InvalidPayload([{"path": "", "message": reply.get("description", "")}])
    raise CommandError(reply.get("description") or "The command failed.")


async def _release(layer, channel: str) -> None:
    """Unsubscribe the reply channel (the pub/sub layer does so when a receive is cancelled)."""
    try:
        await asyncio.wait_for(layer.receive(channel), 0.01)
    except (TimeoutError, asyncio.CancelledError):
        pass


async def _station_call_to_the_end(**kwargs: Any) -> dict[str, Any]:
    """``station_call_async``, finished even when whoever waits is cancelled.  A sync view under
    ASGI is cancelled when its HTTP client hangs up, and asgiref passes that on to the
    ``async_to_sync`` call inside it; but the command is already on its way to the station, so
    its answer is still awaited (at most the command's timeout) and the caller still records
    it.  The cancellation is taken back (``uncancel``): the caller's thread finishes normally."""
    call = asyncio.ensure_future(station_call_async(**kwargs))
    while True:
        try:
            return await asyncio.shield(call)
        except asyncio.CancelledError:
            if call.done():
                return call.result()
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()


def _version_of(station) -> str:
    if not station.ocpp_version:
        raise StationOffline("The station has never connected.")
    return station.ocpp_version


def station_call(
    station,
    action: str,
    payload: dict[str, Any],
    *,
    timeout: float | None = None,
    validate: bool = True,
) -> dict[str, Any]:
    """Send ``action`` to ``station`` (current tenant) and return its answer's payload.

    A 2.0.1 GetVariables / SetVariables / GetReport that is larger than the station takes in
    one message (B06-B08: ``_within_limits``) goes as several, one after the other, and the
    answers come back merged as if it had been one: every sender, the command service or a
    feature reading a station (power's abilities), is split the same way."""
    version = _version_of(station)
    if validate and not station.lax_validation:
        validate_action_payload(version, action, payload)
    calls = _within_limits(station, version, [payloads.Call(action, payload)])
    if len(calls) == 1:
        answer = _station_call_one(station, action, payload, timeout=timeout)
    else:
        answers = [
            _station_call_one(station, call.action, call.payload, timeout=timeout) for call in calls
        ]
        answer = payloads.merged_answer(action, answers)
    if action == "GetVariables" and version == payloads.V201:
        limits = payloads.variable_limits(answer)
        if limits:  # B06-B08: read from the station's variables, as from its report
            from .services import message_limits_reported

            message_limits_reported(station_id=station.pk, limits=limits)
    return answer


def _station_call_one(
    station, action: str, payload: dict[str, Any], *, timeout: float | None = None
) -> dict[str, Any]:
    if not station.is_online:
        raise StationOffline("The station is offline.")
    if station.registration_status != "Accepted" and not sendable_while_not_accepted(
        station.registration_status, action, payload
    ):
        raise StationNotAccepted(
            _("The station is %(status)s: %(action)s may not be sent to it yet.")
            % {"status": station.registration_status, "action": action}
        )
    return async_to_sync(_station_call_to_the_end)(
        schema_name=connection.schema_name,
        station_id=station.pk,
        action=action,
        payload=payload,
        timeout=timeout,
    )


# --- The command service: what the portal, the API and other apps call ----------------------
# One path per command: check the requester's permission on the station's site, build the
# payload of the station's OCPP version (``payloads``), write the audit entry when the command
# is sent, send it (``station_call``), complete the entry with the outcome, and answer with a
# ``CommandReply``.  Failures (offline, timeout, refused) are replies too, audited the same.
#
# The audit entry (action ``station.<command>`` / ``session.remote_start|stop``) has one shape:
#   input      what the requester asked, in the API's vocabulary
#   calls      [{action, payload}] as sent (1.6 configuration changes: one call per key)
#   state      sent → answered | failed   (an entry left at "sent": the outcome never came)
#   status     the station's word (Accepted, Rejected...) or the error's name (StationOffline)
#   responses  the station's answers, one per call (None until answered)
#   error      {type, message[, code, description, errors]} or None
#   session    remote start only: {session_id, transaction_id} once the station reports it
# ``succeeded`` is true once the station has accepted; false while pending and on failure.

SUCCESS = {"Accepted", "Scheduled", "Unlocked", "RebootRequired"}
REMOTE_START = "session.remote_start"
# How long after an accepted remote start a transaction on that port with that token is taken
# to be its session (1.6 has no remote-start id; stations wait for the cable up to about this).
REMOTE_START_MATCH = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Requester:
    """Who sends a command and from where (the permission check and the audit entry)."""

    actor: Actor
    source: str = "portal"  # apps.audit.choices.AuditSource
    ip: str | None = None


@dataclass(frozen=True)
class CommandReply:
    """What became of a command.  ``payload`` is the station's answer (a list when the command
    took several calls), None when it never answered; ``error`` the failure, if any;
    ``audit_id`` the command's audit entry, where a remote start's session is recorded once the
    station starts it (2.0.1: the session carries ``remote_start_id``)."""

    command: str
    action: str
    status: str
    ok: bool
    message: str
    payload: Any = None
    error: CommandError | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    remote_start_id: int | None = None
    audit_id: int | None = None

    @property
    def answered(self) -> bool:
        return self.payload is not None

    def raise_error(self) -> None:
        """For callers that turn failures into errors of their own (the API's HTTP codes)."""
        if self.error is not None:
            raise self.error


def _check(requester: Requester, permission: str, station) -> None:
    if not requester.actor.scope_for(permission).covers_site(station.site_id):
        raise PermissionDenied(_("You may not do this on this station."))


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _failure(error: CommandError) -> dict[str, Any]:
    failure: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    for attribute in ("code", "description", "errors"):
        if hasattr(error, attribute):
            failure[attribute] = getattr(error, attribute)
    return failure


def _describe(status: str, answer: Any) -> str:
    info = answer.get("statusInfo") if isinstance(answer, dict) else None
    detail = ""
    if isinstance(info, dict):
        detail = " ".join(str(info.get(k, "")) for k in ("reasonCode", "additionalInfo")).strip()
    if status:
        text = _("The station answered %(status)s.") % {"status": status}
    else:
        text = _("The station answered.")
    return f"{text} {detail}".strip()


def _overall_status(answers: list[Any]) -> str:
    """The first status that is not a success, else the first one ("" when none says)."""
    statuses = [str(a.get("status", "")) for a in answers if isinstance(a, dict)]
    statuses = [status for status in statuses if status]
    failed = [status for status in statuses if status not in SUCCESS]
    return (failed or statuses or [""])[0]


class _Command:
    """One command on its way: the audit entry written when sent, completed with its outcome."""

    def __init__(self, *, requester: Requester, station, command: str, inputs: dict) -> None:
        self.requester, self.station, self.command = requester, station, command
        self.changes: dict[str, Any] = {
            "input": _jsonable(inputs),
            "calls": [],
            "state": "sent",
            "status": "",
            "responses": None,
            "error": None,
        }
        self.entry_id: int | None = None
        self.action = ""

    def _write(self, *, succeeded: bool) -> None:
        from apps.audit.services import audit_complete, audit_record

        if self.entry_id is None:
            entry = audit_record(
                actor=self.requester.actor,
                action=self.command,
                source=self.requester.source,
                ip=self.requester.ip,
                obj=self.station,
                changes=self.changes,
                succeeded=succeeded,
            )
            self.entry_id = entry.pk
        else:
            audit_complete(entry_id=self.entry_id, changes=self.changes, succeeded=succeeded)

    def sent(self) -> None:
        self._write(succeeded=False)

    def failed(self, error: CommandError) -> CommandReply:
        self.changes.update(state="failed", status=type(error).__name__, error=_failure(error))
        self._write(succeeded=False)
        return CommandReply(
            command=self.command,
            action=self.action,
            status=type(error).__name__,
            ok=False,
            message=str(error),
            error=error,
            audit_id=self.entry_id,
        )

    def answered(self, answers: list[Any]) -> CommandReply:
        status = _overall_status(answers)
        ok = status in SUCCESS if status else True
        self.changes.update(state="answered", status=status, responses=_jsonable(answers))
        self._write(succeeded=ok)
        payload = answers[0] if len(answers) == 1 else answers
        return CommandReply(
            command=self.command,
            action=self.action,
            status=status or str(_("Answered")),
            ok=ok,
            message=_describe(status, payload),
            payload=payload,
            audit_id=self.entry_id,
        )


def _send(
    *,
    requester: Requester,
    station,
    command: str,
    inputs: dict[str, Any],
    build: Callable[[str], list[payloads.Call]],
    permission: str = "stations.command",
    always_validate: bool = False,
    timeout: float | None = None,
    rows: Callable[[str, list[Any]], list[dict[str, Any]]] | None = None,
) -> CommandReply:
    """Every command's path.  ``build`` turns the station's version into the calls to send
    (``payloads.BadKey`` from it is the caller's input error: raised, nothing is recorded);
    all calls are checked against the version's schemas before the first is sent."""
    _check(requester, permission, station)
    record = _Command(requester=requester, station=station, command=command, inputs=inputs)
    try:
        version = _version_of(station)
    except StationOffline as error:
        return record.failed(error)
    calls = _within_limits(station, version, build(version))
    record.action = calls[0].action if calls else ""
    record.changes["calls"] = [{"action": c.action, "payload": c.payload} for c in calls]
    passwords = payloads.password_changes(version, calls)
    if passwords:
        record.changes = _redacted(record.changes, passwords.values())
    try:
        if always_validate or not station.lax_validation:
            for call in calls:
                validate_action_payload(version, call.action, call.payload)
        for password in passwords.values():
            _check_password(password)
    except InvalidPayload as error:
        return record.failed(error)
    record.sent()  # on record before anything can wait on the station
    for password in passwords.values():
        # Staged before it is sent: a station that takes it and reconnects at once gets in.
        stations.station_password_stage(station=station, password=password)
    answers: list[Any] = []
    try:
        for call in calls:
            answers.append(
                station_call(station, call.action, call.payload, timeout=timeout, validate=False)
            )
    except CommandError as error:
        if passwords and not isinstance(error, CommandTimeout):
            stations.station_password_unstage(station=station)  # it never took it
        return record.failed(error)
    if passwords and not all(
        payloads.password_accepted(version, calls[index], answers[index]) for index in passwords
    ):
        stations.station_password_unstage(station=station)
    reply = record.answered(answers)
    if rows is not None:
        reply = replace(reply, rows=rows(version, answers))
    return reply


def _within_limits(station, version: str, calls: list[payloads.Call]) -> list[payloads.Call]:
    """2.0.1 B06-B08: GetVariables / SetVariables / GetReport split to the station's
    ItemsPerMessage and BytesPerMessage (its report, or the station's overrides)."""
    from .models import StationMessageLimits

    if version != payloads.V201 or not any(c.action in payloads.LIMITED_ACTIONS for c in calls):
        return calls
    limits = StationMessageLimits.objects.filter(station_id=station.pk).first()
    if limits is None:
        return calls
    split = []
    for call in calls:
        split += payloads.batched(
            call,
            items=limits.limit(f"ItemsPerMessage/{call.action}"),
            max_bytes=limits.limit(f"BytesPerMessage/{call.action}"),
        )
    return split


def _merged(version: str, reply: CommandReply) -> CommandReply:
    """One answer for a batched GetVariables / SetVariables (as if it had been one call)."""
    if version != payloads.V201 or not isinstance(reply.payload, list):
        return reply
    return replace(reply, payload=payloads.merged_answer(reply.action, reply.payload))


def _check_password(password: str) -> None:
    try:
        validate_station_password(password)
    except ValidationError as error:
        raise InvalidPayload([{"path": "value", "message": m} for m in error.messages]) from None


def _redacted(changes: dict[str, Any], secrets_: Any) -> dict[str, Any]:
    """The audit entry never holds a station password."""
    text = json.dumps(changes, cls=DjangoJSONEncoder)
    for secret in secrets_:
        text = text.replace(json.dumps(secret)[1:-1], "********")
    return json.loads(text)


# --- Commands ---------------------------------------------------------------------------------
def station_reset(*, requester: Requester, station, kind: str = "soft") -> CommandReply:
    """``kind``: "soft" (1.6 Soft, 2.0.1 OnIdle) or "hard" (Hard, Immediate)."""
    if kind not in ("soft", "hard"):
        raise ValueError(f"Not a kind of reset: {kind!r}")
    return _send(
        requester=requester,
        station=station,
        command="station.reset",
        inputs={"kind": kind},
        build=lambda version: [payloads.reset(version, hard=kind == "hard")],
    )


def station_unlock(
    *, requester: Requester, station, evse_id: int, connector_id: int = 1
) -> CommandReply:
    return _send(
        requester=requester,
        station=station,
        command="station.unlock",
        inputs={"evse_id": evse_id, "connector_id": connector_id},
        build=lambda version: [
            payloads.unlock(version, evse_id=evse_id, connector_id=connector_id)
        ],
    )


def station_availability(
    *, requester: Requester, station, operative: bool, evse_id: int | None = None
) -> CommandReply:
    """``evse_id`` None (or 0) is the whole station."""
    evse_id = evse_id or None
    return _send(
        requester=requester,
        station=station,
        command="station.availability",
        inputs={"operative": operative, "evse_id": evse_id},
        build=lambda version: [
            payloads.availability(version, operative=operative, evse_id=evse_id)
        ],
    )


def station_trigger_message(
    *, requester: Requester, station, message: str, evse_id: int | None = None
) -> CommandReply:
    evse_id = evse_id or None
    return _send(
        requester=requester,
        station=station,
        command="station.trigger_message",
        inputs={"message": message, "evse_id": evse_id},
        build=lambda version: [payloads.trigger(version, message=message, evse_id=evse_id)],
    )


def station_certificate_signed(
    *, requester: Requester, station, certificate_chain: str, certificate_type: str
) -> CommandReply:
    """A certificate signed for the station (after its SignCertificate), PEM chain."""
    return _send(
        requester=requester,
        station=station,
        command="station.certificate_signed",
        inputs={"certificate_type": certificate_type},
        build=lambda version: [
            payloads.certificate_signed(
                version, certificate_chain=certificate_chain, certificate_type=certificate_type
            )
        ],
    )


def _configuration_rows(values: payloads.ConfigurationValues) -> list[dict[str, Any]]:
    """Values and unknown keys in one table."""
    rows = [{**row, "readonly": bool(row["readonly"])} for row in values.values]
    rows += [
        {"key": key, "value": "", "readonly": True, "status": "UnknownKey"}
        for key in values.unknown
    ]
    return rows


def station_configuration_read(*, requester: Requester, station, keys: list[str]) -> CommandReply:
    """1.6 GetConfiguration (no keys: all); 2.0.1 GetVariables of ``Component/Variable`` names
    (at least one).  ``rows``: values and unknown keys; the answer read with
    ``payloads.configuration_values`` by callers that want them apart."""
    keys = [key.strip() for key in keys if key.strip()]

    def rows(version: str, answers: list[Any]) -> list[dict[str, Any]]:
        answer = (
            answers[0]
            if version == payloads.V16
            else payloads.merged_answer("GetVariables", answers)
        )
        values = payloads.configuration_values(version, answer, keys=keys)
        table = _configuration_rows(values)
        if version == payloads.V16:  # all of a station's keys: alphabetical reads best
            table.sort(key=lambda row: str(row["key"]).lower())
        return table

    reply = _send(
        requester=requester,
        station=station,
        command="station.configuration_read",
        inputs={"keys": keys},
        build=lambda version: [payloads.configuration_get(version, keys=keys)],
        permission="stations.configure",
        rows=rows,
    )
    return _merged(station.ocpp_version, reply)


def station_configuration_change(
    *, requester: Requester, station, changes: list[dict[str, Any]]
) -> CommandReply:
    """``changes``: ``{"key", "value"[, "evse_id"]}``.  1.6: one ChangeConfiguration per key;
    2.0.1: one SetVariables.  ``rows``: ``{key, status}`` per change."""
    changes = [dict(change) for change in changes]

    def rows(version: str, answers: list[Any]) -> list[dict[str, Any]]:
        return payloads.configuration_results(version, changes, answers)

    reply = _send(
        requester=requester,
        station=station,
        command="station.configuration_change",
        inputs={"changes": changes},
        build=lambda version: payloads.configuration_set(version, changes=changes),
        permission="stations.configure",
        rows=rows,
    )
    return _merged(station.ocpp_version, reply)


def station_password_rotate(*, requester: Requester, station) -> CommandReply:
    """Give the station a new strong Basic-auth password (1.6 ChangeConfiguration
    AuthorizationKey, 2.0.1 SetVariables SecurityCtrlr.BasicAuthPassword).  The old one keeps
    working until the station logs in with the new one; refused, the old one stays."""
    password = generate_station_password()
    reply = _send(
        requester=requester,
        station=station,
        command="station.password_rotate",
        inputs={},
        build=lambda version: [payloads.password_set(version, password=password)],
        permission="stations.configure",
    )
    if not reply.answered:
        return reply
    status = payloads.password_status(station.ocpp_version, reply.payload)
    return replace(
        reply,
        status=status,
        ok=status in payloads.PASSWORD_TAKEN,
        message=_describe(status, reply.payload),
    )


def station_ocpp_call(
    *,
    requester: Requester,
    station,
    action: str,
    payload: dict[str, Any],
    timeout: float | None = None,
) -> CommandReply:
    """Any action of the station's version, checked against its schema even for stations
    whose firmware may break it (the raw call is for people who know what they send)."""
    return _send(
        requester=requester,
        station=station,
        command="station.ocpp_call",
        inputs={"action": action, "payload": payload, "timeout": timeout},
        build=lambda version: [payloads.Call(action, payload)],
        permission="ocpp.raw_call",
        always_validate=True,
        timeout=timeout,
    )


def session_remote_start(
    *,
    requester: Requester,
    station,
    evse_id: int,
    id_token: str,
    token_type: str = "Central",
) -> CommandReply:
    """Ask the station to start charging; answers as soon as the station accepts or refuses.
    The session it then starts is added to the command's audit entry when the station reports
    it (``remote_start_session_started``), whoever is still waiting."""
    remote_start_id = secrets.randbelow(2**31 - 1) + 1
    reply = _send(
        requester=requester,
        station=station,
        command=REMOTE_START,
        inputs={"evse_id": evse_id, "id_token": id_token, "token_type": token_type},
        build=lambda version: [
            payloads.remote_start(
                version,
                evse_id=evse_id,
                id_token=id_token,
                token_type=token_type,
                remote_start_id=remote_start_id,
            )
        ],
    )
    if reply.ok:
        message = _("The station accepted; the session shows here once the station starts it.")
        reply = replace(reply, message=message)
    if station.ocpp_version != payloads.V201:
        return reply
    return replace(reply, remote_start_id=remote_start_id)


def station_update_firmware(
    *,
    requester: Requester,
    station,
    location: str,
    retrieve_at: dt.datetime,
    request_id: int,
    retries: int | None = None,
    retry_interval: int | None = None,
    signature: str = "",
    signing_certificate: str = "",
) -> CommandReply:
    """Ask the station to download and install the firmware at ``location`` (it reports its
    progress in FirmwareStatusNotifications; 2.0.1 ones carry ``request_id``)."""
    when = retrieve_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return _send(
        requester=requester,
        station=station,
        command="station.update_firmware",
        inputs={"location": location.split("?", 1)[0], "request_id": request_id},
        build=lambda version: [
            payloads.update_firmware(
                version,
                location=location,
                retrieve_at=when,
                request_id=request_id,
                retries=retries,
                retry_interval=retry_interval,
                signature=signature,
                signing_certificate=signing_certificate,
            )
        ],
    )


def station_data_transfer(
    *, requester: Requester, station, vendor_id: str, message_id: str, data: str
) -> CommandReply:
    return _send(
        requester=requester,
        station=station,
        command="station.data_transfer",
        inputs={"vendor_id": vendor_id, "message_id": message_id},
        build=lambda version: [
            payloads.data_transfer(version, vendor_id=vendor_id, message_id=message_id, data=data)
        ],
    )


def station_display_message(
    *,
    requester: Requester,
    station,
    message_id: int,
    text: str,
    priority: str = "NormalCycle",
    language: str = "",
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    timeout: float | None = None,
) -> CommandReply:
    """2.0.1 SetDisplayMessage (text on the station's screen; the same ``message_id``
    replaces it)."""

    def iso(moment: dt.datetime | None) -> str | None:
        return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if moment else None

    return _send(
        requester=requester,
        station=station,
        command="station.display_message",
        inputs={"message_id": message_id, "text": text},
        build=lambda version: [
            payloads.display_message(
                version,
                message_id=message_id,
                text=text,
                priority=priority,
                language=language,
                start=iso(start),
                end=iso(end),
            )
        ],
        timeout=timeout,
    )


def station_send_local_list(
    *,
    requester: Requester,
    station,
    list_version: int,
    full: bool,
    entries: list[payloads.LocalListEntry],
    timeout: float | None = None,
) -> CommandReply:
    """SendLocalList, one message (the caller splits a long list to the station's limit)."""
    return _send(
        requester=requester,
        station=station,
        command="station.send_local_list",
        inputs={"list_version": list_version, "full": full, "entries": len(entries)},
        build=lambda version: [
            payloads.send_local_list(version, list_version=list_version, full=full, entries=entries)
        ],
        permission="stations.configure",
        timeout=timeout,
    )


def station_clear_cache(
    *, requester: Requester, station, timeout: float | None = None
) -> CommandReply:
    """ClearCache: the station forgets the tokens it authorised before (after a rule change)."""
    return _send(
        requester=requester,
        station=station,
        command="station.clear_cache",
        inputs={},
        build=lambda version: [payloads.clear_cache(version)],
        permission="stations.configure",
        timeout=timeout,
    )


def session_remote_stop(*, requester: Requester, session) -> CommandReply:
    return _send(
        requester=requester,
        station=session.station,
        command="session.remote_stop",
        inputs={"session_id": session.pk},
        build=lambda version: [
            payloads.remote_stop(version, transaction_id=session.transaction_id)
        ],
    )


def reservation_reserve_now(
    *,
    requester: Requester,
    station,
    evse_id: int,
    reservation_id: int,
    expires_at: dt.datetime,
    id_token: str,
    token_type: str = "ISO14443",
    timeout: float | None = None,
) -> CommandReply:
    """Hold port ``evse_id`` for ``id_token`` until ``expires_at`` (ReserveNow, both versions);
    the station answers Accepted, Occupied, Faulted, Unavailable or Rejected."""
    expiry = expires_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return _send(
        requester=requester,
        station=station,
        command="station.reserve_now",
        inputs={"evse_id": evse_id, "reservation_id": reservation_id, "expires_at": expiry},
        build=lambda version: [
            payloads.reserve_now(
                version,
                evse_id=evse_id,
                reservation_id=reservation_id,
                expires_at=expiry,
                id_token=id_token,
                token_type=token_type,
            )
        ],
        timeout=timeout,
    )


def reservation_cancel(
    *, requester: Requester, station, reservation_id: int, timeout: float | None = None
) -> CommandReply:
    return _send(
        requester=requester,
        station=station,
        command="station.cancel_reservation",
        inputs={"reservation_id": reservation_id},
        build=lambda version: [payloads.cancel_reservation(version, reservation_id=reservation_id)],
        timeout=timeout,
    )


# --- Smart charging, local list, logs, display messages (the portal's command forms) ---------
# Profiles the portal sets use ids from here, apart from power management's (1, 2, 100 + port):
# one per purpose and port, so setting it again replaces it.
OPERATOR_PROFILE_BASE = 1000


def operator_profile_id(*, purpose: str, evse_id: int) -> int:
    return OPERATOR_PROFILE_BASE + evse_id * 10 + (0 if purpose == "station_max" else 1)


def _iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def station_charging_profile_set(
    *,
    requester: Requester,
    station,
    purpose: str,
    evse_id: int,
    unit: str,
    periods: list[tuple[int, float]],
    stack_level: int = 0,
    starts_at: dt.datetime | None = None,
    profile_id: int | None = None,
) -> CommandReply:
    """A station maximum (``purpose`` "station_max", port 0) or the default for new sessions
    ("tx_default", port 0 = every port): an absolute schedule from ``starts_at`` (default now)
    of (seconds from the start, limit in ``unit``) periods."""
    start = _iso(starts_at or timezone.now())
    profile_id = profile_id or operator_profile_id(purpose=purpose, evse_id=evse_id)
    return _send(
        requester=requester,
        station=station,
        command="station.charging_profile_set",
        inputs={
            "purpose": purpose,
            "evse_id": evse_id,
            "unit": unit,
            "periods": [list(period) for period in periods],
            "stack_level": stack_level,
            "starts_at": start,
            "profile_id": profile_id,
        },
        build=lambda version: [
            payloads.charging_profile_set(
                version,
                profile_id=profile_id,
                purpose=purpose,
                evse_id=evse_id,
                stack_level=stack_level,
                unit=unit,
                periods=periods,
                start=start,
            )
        ],
    )


def station_charging_profile_clear(
    *,
    requester: Requester,
    station,
    profile_id: int | None = None,
    purpose: str | None = None,
    evse_id: int | None = None,
    stack_level: int | None = None,
) -> CommandReply:
    """Clear by id, or by port / purpose / stack level (nothing given: every profile)."""
    return _send(
        requester=requester,
        station=station,
        command="station.charging_profile_clear",
        inputs={
            "profile_id": profile_id,
            "purpose": purpose,
            "evse_id": evse_id,
            "stack_level": stack_level,
        },
        build=lambda version: [
            payloads.charging_profile_clear(
                version,
                profile_id=profile_id,
                purpose=purpose,
                evse_id=evse_id,
                stack_level=stack_level,
            )
        ],
    )


def station_composite_schedule(
    *, requester: Requester, station, evse_id: int, duration: int, unit: str | None = None
) -> CommandReply:
    """What the station will apply on a port over ``duration`` seconds; ``rows``: one per
    period (``starts_at`` UTC, ``seconds``, ``limit``, ``unit``)."""

    def rows(version: str, answers: list[Any]) -> list[dict[str, Any]]:
        schedule = payloads.composite_schedule(version, answers[0])
        peak = max((period.limit for period in schedule.periods), default=0)
        return [
            {
                "starts_at": period.starts_at,
                "seconds": period.seconds,
                "limit": period.limit,
                "unit": schedule.unit,
                "phases": period.phases,
                "peak": peak,
            }
            for period in schedule.periods
        ]

    return _send(
        requester=requester,
        station=station,
        command="station.composite_schedule",
        inputs={"evse_id": evse_id, "duration": duration, "unit": unit},
        build=lambda version: [
            payloads.composite_schedule_get(version, evse_id=evse_id, duration=duration, unit=unit)
        ],
        rows=rows,
    )


def station_local_list_version(
    *, requester: Requester, station, timeout: float | None = None
) -> CommandReply:
    """The version number of the station's local authorisation list (``status`` is it; -1 on
    a 1.6 station without local lists).  Used by the portal and by access's list sync."""
    reply = _send(
        requester=requester,
        station=station,
        command="station.local_list_version",
        inputs={},
        build=lambda version: [payloads.local_list_version(version)],
        timeout=timeout,
    )
    if not reply.answered:
        return reply
    number = reply.payload.get("listVersion", reply.payload.get("versionNumber"))
    if not isinstance(number, int):
        return reply
    return replace(
        reply,
        status=str(number),
        ok=True,
        message=_("The station's local list is at version %(number)s.") % {"number": number},
    )


def station_local_list_send(
    *,
    requester: Requester,
    station,
    list_version: int,
    full: bool,
    entries: list[tuple[str, str]],
) -> CommandReply:
    """Replace (``full``) or update the station's local list with (token, status) entries, by
    hand (the operator's command); an empty status removes the token.  apps/access keeps lists
    in step with its rules through :func:`station_send_local_list`; both build one payload."""
    return _send(
        requester=requester,
        station=station,
        command="station.local_list_send",
        inputs={"list_version": list_version, "full": full, "entries": len(entries)},
        build=lambda version: [
            payloads.send_local_list(
                version,
                list_version=list_version,
                full=full,
                entries=[
                    payloads.LocalListEntry(token, status or None) for token, status in entries
                ],
            )
        ],
    )


def station_logs_upload(
    *,
    requester: Requester,
    station,
    location: str,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    log_type: str = "DiagnosticsLog",
) -> CommandReply:
    """Ask the station to upload its diagnostics (1.6) or logs (2.0.1) to ``location``."""
    request_id = secrets.randbelow(2**31 - 1) + 1
    return _send(
        requester=requester,
        station=station,
        command="station.logs_upload",
        inputs={
            "location": location.split("?", 1)[0],
            "since": _iso(since),
            "until": _iso(until),
            "log_type": log_type,
            "request_id": request_id,
        },
        build=lambda version: [
            payloads.logs_upload(
                version,
                location=location,
                request_id=request_id,
                since=_iso(since),
                until=_iso(until),
                log_type=log_type,
            )
        ],
    )


def station_display_messages_get(*, requester: Requester, station) -> CommandReply:
    """2.0.1: the station sends what it shows in NotifyDisplayMessages (logged)."""
    request_id = secrets.randbelow(2**31 - 1) + 1
    return _send(
        requester=requester,
        station=station,
        command="station.display_messages_get",
        inputs={"request_id": request_id},
        build=lambda version: [payloads.display_messages_get(version, request_id=request_id)],
    )


def station_display_message_clear(
    *, requester: Requester, station, message_id: int
) -> CommandReply:
    return _send(
        requester=requester,
        station=station,
        command="station.display_message_clear",
        inputs={"message_id": message_id},
        build=lambda version: [payloads.display_message_clear(version, message_id=message_id)],
    )


def station_report_request(*, requester: Requester, station) -> CommandReply:
    """2.0.1: ask for the station's full report (its NotifyReports are kept as station
    events; the portal's configuration picker reads them)."""
    request_id = secrets.randbelow(2**31 - 1) + 1
    return _send(
        requester=requester,
        station=station,
        command="station.report_request",
        inputs={"request_id": request_id},
        build=lambda version: [payloads.base_report(version, request_id=request_id)],
        permission="stations.configure",
    )


def remote_start_session_started(*, session) -> int | None:
    """A session has just opened: if a remote start asked for it (accepted, or not answered yet
    in the process that sent it), record it on that command's audit entry (2.0.1: the same ``remoteStartId``; 1.6: the same port and token,
    started within ``REMOTE_START_MATCH``).  Returns the entry's id, if any."""
    from apps.audit.models import AuditEntry
    from apps.audit.services import audit_complete

    pending = AuditEntry.objects.filter(
        action=REMOTE_START,
        object_type="stations.station",
        object_id=str(session.station_id),
        occurred_at__gte=timezone.now() - REMOTE_START_MATCH,
        changes__session__isnull=True,
    ).filter(Q(changes__state="sent") | Q(changes__status="Accepted"))
    if session.remote_start_id is not None:
        pending = pending.filter(changes__calls__0__payload__remoteStartId=session.remote_start_id)
    else:
        pending = pending.filter(
            changes__calls__0__action="RemoteStartTransaction",
            changes__calls__0__payload__connectorId=session.evse.evse_id,
            changes__calls__0__payload__idTag=session.id_token,
        )
    entry_id = pending.order_by("-occurred_at", "-id").values_list("pk", flat=True).first()
    if entry_id is not None:
        audit_complete(
            entry_id=entry_id,
            changes={
                "session": {"session_id": session.pk, "transaction_id": session.transaction_id}
            },
        )
    return entry_id


# --- Certificate management (2.0.1 M03-M05; 1.6 security whitepaper) ---------------------------
# Types in 2.0.1's words (``payloads.certificate_types``); a type the station's version has no
# word for raises ``payloads.BadCertificateType`` (the caller's input error, nothing recorded).


def station_certificate_install(
    *, requester: Requester, station, certificate_type: str, certificate: str
) -> CommandReply:
    """InstallCertificate: a root (CSMS, manufacturer, V2G, MO) the station is to trust (PEM)."""
    version = _version_of(station) if station.ocpp_version else payloads.V201
    payloads.certificate_install(version, certificate_type=certificate_type, certificate="")
    return _send(
        requester=requester,
        station=station,
        command="station.certificate_install",
        inputs={"certificate_type": certificate_type},
        build=lambda version: [
            payloads.certificate_install(
                version, certificate_type=certificate_type, certificate=certificate
            )
        ],
        permission="stations.configure",
    )


def station_certificate_delete(
    *, requester: Requester, station, hash_data: dict[str, str]
) -> CommandReply:
    """DeleteCertificate by its hash data (hash_algorithm, issuer_name_hash, issuer_key_hash,
    serial_number, as GetInstalledCertificateIds reported it)."""
    return _send(
        requester=requester,
        station=station,
        command="station.certificate_delete",
        inputs={"serial_number": hash_data.get("serial_number", "")},
        build=lambda version: [payloads.certificate_delete(version, hash_data=hash_data)],
        permission="stations.configure",
    )


def station_installed_certificate_ids(
    *, requester: Requester, station, certificate_types: list[str] | None = None
) -> CommandReply:
    """GetInstalledCertificateIds; ``rows`` lists the certificates the station holds (one per
    certificate: ``payloads.installed_certificate_rows``).  1.6: one request per type."""
    certificate_types = list(certificate_types or [])
    version = _version_of(station) if station.ocpp_version else payloads.V201
    payloads.installed_certificate_ids(version, certificate_types=certificate_types)
    sent: list[payloads.Call] = []

    def build(version: str) -> list[payloads.Call]:
        sent[:] = payloads.installed_certificate_ids(version, certificate_types=certificate_types)
        return list(sent)

    reply = _send(
        requester=requester,
        station=station,
        command="station.installed_certificate_ids",
        inputs={"certificate_types": certificate_types},
        build=build,
        permission="stations.configure",
        rows=lambda version, answers: payloads.installed_certificate_rows(version, sent, answers),
    )
    if reply.error is not None:
        return reply
    # NotFound is an answer too (none of that type): the list is Accepted when one type was.
    answers = reply.payload if isinstance(reply.payload, list) else [reply.payload]
    statuses = {str(a.get("status", "")) for a in answers if isinstance(a, dict)}
    if statuses <= {"Accepted", "NotFound"}:
        status = "Accepted" if "Accepted" in statuses else "NotFound"
        reply = replace(reply, status=status, ok=True, message=_describe(status, None))
    return reply
