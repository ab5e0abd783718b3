"""Writes: opening a case (a driver by the public form or e-mail, a station manager in the
portal), confirming a driver's e-mail, the conversation, assignment, status, the SLA clocks and
their breach alerts, one-click station commands, inbound e-mail, canned answers, settings.

Everything the requester or the staff are told goes out through the notification service,
asked for with the core's ``notification.requested`` event (apps/core/events.py): support never
imports it.  Each message names its case's reply address (``reply_to``) and carries the case's
reference in the subject, which is how an answer by e-mail finds its way back
(``inbound_email_receive``).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.charging.models import ChargingSession
from apps.core import events
from apps.ocpp import commands
from apps.stations.models import Station

from . import links, selectors, sla
from .choices import (
    ATTACHMENT_EXTENSIONS,
    ATTACHMENT_TYPES,
    PRIORITY_FACTOR,
    AuthorKind,
    CasePriority,
    CaseStatus,
    Queue,
    RequesterKind,
    Source,
    StationAction,
)
from .models import CannedAnswer, Case, CaseAttachment, CaseMessage, SupportSettings

logger = logging.getLogger(__name__)
MAX_BODY = 20_000
ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
ATTACHMENTS_PER_MESSAGE = 3


class SupportError(Exception):
    pass


# --- Settings ---------------------------------------------------------------------------------
@transaction.atomic
def settings_update(**fields: Any) -> SupportSettings:
    current = SupportSettings.objects.select_for_update().filter(singleton=True).first()
    current = current or SupportSettings()
    for name, value in fields.items():
        setattr(current, name, value)
    current.full_clean()
    current.save()
    return current


# --- Clocks -----------------------------------------------------------------------------------
def _set_clocks(case: Case, *, start: dt.datetime) -> None:
    """Due dates from the settings, the case's priority and who asked (drivers round the
    clock, managers in business hours)."""
    config = selectors.settings_get()
    hours = None if case.round_the_clock else config.business_hours()
    factor = PRIORITY_FACTOR[CasePriority(case.priority)]
    case.first_response_due_at = sla.due_at(start, config.first_response_minutes * factor, hours)
    case.resolution_due_at = sla.due_at(
        start, config.resolution_minutes * factor + case.paused_minutes, hours
    )


def _clock_hours(case: Case) -> sla.BusinessHours | None:
    return None if case.round_the_clock else selectors.settings_get().business_hours()


def _pause_resolution(case: Case, *, now: dt.datetime) -> None:
    """The case waits on its requester: the resolution clock stops (from now)."""
    if case.waiting_since is None:
        case.waiting_since = now


def _resume_resolution(case: Case, *, now: dt.datetime) -> None:
    """The wait is over: the clock minutes it lasted push the resolution due date.  A wait
    that began once the case was already late does not (the breach stands)."""
    if case.waiting_since is None:
        return
    if case.resolution_due_at is not None and case.waiting_since < case.resolution_due_at:
        case.paused_minutes += sla.clock_minutes(case.waiting_since, now, _clock_hours(case))
        if case.opened_at is not None:
            _set_clocks(case, start=case.opened_at)
    case.waiting_since = None


# --- Notifications ----------------------------------------------------------------------------
def _notify(*, recipient: dict[str, str], kind: str, event_key: str, case: Case, **context):
    if not recipient.get("email"):
        return
    context = {
        "reference": links.reference(case),
        "title": case.subject,
        "link": context.pop("link", "") or links.absolute(links.public_path(case)),
        "reply_to": links.reply_address(case),
        **{key: str(value) for key, value in context.items()},
    }
    events.emit(
        events.NOTIFICATION_REQUESTED,
        recipient=recipient,
        kind=kind,
        event_key=event_key,
        context=context,
    )


def _requester(case: Case) -> dict[str, str]:
    return {
        "key": f"email:{case.requester_email.lower()}",
        "email": case.requester_email,
        "language": case.language,
    }


def _staff_recipients(case: Case) -> list[dict[str, str]]:
    """Who hears of a case's news on the staff side: its assignee, else the team e-mail."""
    if case.assignee_id and case.assignee.is_active:
        user = case.assignee
        return [{"key": f"user:{user.pk}", "email": user.email, "language": user.language or "en"}]
    team = selectors.settings_get().team_email
    return [{"key": f"email:{team.lower()}", "email": team, "language": "en"}] if team else []


def _staff_link(case: Case) -> str:
    return links.absolute(
        reverse("support:case_detail", args=[case.pk], urlconf=settings.ROOT_URLCONF)
    )


# --- Opening ----------------------------------------------------------------------------------
def _attachments(
    *, station: Station | None, session: ChargingSession | None
) -> tuple[Station | None, ChargingSession | None]:
    if session is not None:
        if station is not None and session.station_id != station.pk:
            raise ValidationError({"session": _("This session was not at this station.")})
        station = session.station
    return station, session


@transaction.atomic
def case_open(
    *,
    requester_kind: str,
    requester_email: str,
    subject: str,
    category: str,
    description: str,
    source: str,
    requester_name: str = "",
    requester_user=None,
    language: str = "en",
    priority: str = CasePriority.NORMAL,
    station: Station | None = None,
    session: ChargingSession | None = None,
    receipt_number: str = "",
    queue: str | None = None,
    verified: bool = True,
    attachments=(),
) -> Case:
    """Open a case with its first message.  A driver whose e-mail nobody vouched for
    (``verified=False``) gets a confirmation link first: the case waits, unseen by staff and
    with no clock running, until they follow it (``case_verify``)."""
    station, session = _attachments(station=station, session=session)
    checked = _attachments_checked(attachments)
    if queue is None:
        # Drivers ask the network's owner; station managers ask the platform's support team.
        queue = Queue.TENANT if requester_kind == RequesterKind.DRIVER else Queue.PLATFORM
    case = Case(
        requester_kind=requester_kind,
        requester_name=requester_name,
        requester_email=requester_email.strip().lower(),
        requester_user=requester_user,
        language=language or "en",
        subject=subject.strip(),
        category=category,
        priority=priority,
        queue=queue,
        source=source,
        station=station,
        site=station.site if station is not None else None,
        session=session,
        receipt_number=receipt_number.strip(),
        status=CaseStatus.NEW if verified else CaseStatus.UNVERIFIED,
    )
    if verified:
        now = timezone.now()
        case.opened_at = now
        _set_clocks(case, start=now)
    case.full_clean()
    case.save()
    message = _add_message(
        case=case,
        author_kind=AuthorKind.REQUESTER,
        author_user=requester_user,
        author_label=requester_name or case.requester_email,
        body=description,
        source=source,
    )
    _attach(case=case, message=message, checked=checked)
    if verified:
        _announce_opened(case, message)
    else:
        _notify(
            recipient=_requester(case),
            kind="support.verify",
            event_key=f"support.verify:{case.pk}",
            case=case,
            link=links.absolute(links.verify_path(case)),
        )
    return case


def _announce_opened(case: Case, message: CaseMessage) -> None:
    _notify(
        recipient=_requester(case),
        kind="support.opened",
        event_key=f"support.opened:{case.pk}",
        case=case,
    )
    for recipient in _staff_recipients(case):
        _notify(
            recipient=recipient,
            kind="support.new_case",
            event_key=f"support.new_case:{case.pk}",
            case=case,
            link=_staff_link(case),
            author=message.author_label,
            body=message.body,
        )


@transaction.atomic
def case_verify(*, case: Case) -> Case:
    """The driver followed the confirmation link: the case opens and its clocks start.
    Following it again changes nothing."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status != CaseStatus.UNVERIFIED:
        return case
    now = timezone.now()
    case.status = CaseStatus.NEW
    case.opened_at = now
    _set_clocks(case, start=now)
    case.save()
    _announce_opened(case, case.messages.order_by("created_at", "id").first())
    return case


def unverified_purge(*, older_than: dt.timedelta = dt.timedelta(days=3)) -> int:
    """Cases whose driver never confirmed their e-mail are forgotten."""
    cutoff = timezone.now() - older_than
    deleted, _ = Case.objects.filter(status=CaseStatus.UNVERIFIED, created_at__lt=cutoff).delete()
    return deleted


# --- Attachments ------------------------------------------------------------------------------
def _attachment_type(data: bytes) -> str | None:
    for kind, magics in ATTACHMENT_TYPES.items():
        if any(data.startswith(magic) for magic in magics):
            if kind == "image/webp" and data[8:12] != b"WEBP":
                continue
            return kind
    return None


def _attachments_checked(uploads) -> list[tuple[str, str, bytes]]:
    """(name, type, bytes) of each upload, or a field error: at most ATTACHMENTS_PER_MESSAGE
    files of at most ATTACHMENT_MAX_BYTES each, JPEG, PNG, WebP or PDF by their first bytes."""
    uploads = [upload for upload in uploads if upload]
    if len(uploads) > ATTACHMENTS_PER_MESSAGE:
        raise ValidationError({"attachment": _("At most three files per message.")})
    checked = []
    for upload in uploads:
        if upload.size is not None and upload.size > ATTACHMENT_MAX_BYTES:
            raise ValidationError({"attachment": _("A file may be at most 5 MB.")})
        data = upload.read(ATTACHMENT_MAX_BYTES + 1)
        if len(data) > ATTACHMENT_MAX_BYTES:
            raise ValidationError({"attachment": _("A file may be at most 5 MB.")})
        kind = _attachment_type(data)
        if kind is None:
            raise ValidationError(
                {"attachment": _("Send a photo (JPEG, PNG, WebP) or a PDF document.")}
            )
        name = re.sub(r"[^\w.\- ]", "_", (upload.name or "").rsplit("/", 1)[-1])[:150].strip()
        stem = name.rsplit(".", 1)[0] if "." in name else name
        checked.append((f"{stem or 'file'}{ATTACHMENT_EXTENSIONS[kind]}", kind, data))
    return checked


def _attach(*, case: Case, message: CaseMessage, checked: list[tuple[str, str, bytes]]) -> None:
    for name, kind, data in checked:
        attachment = CaseAttachment(
            case=case, message=message, name=name, content_type=kind, size=len(data)
        )
        # Saved through the default storage (the file first, then the row).
        attachment.file.save(name, ContentFile(data), save=False)
        attachment.save()


# --- The conversation -------------------------------------------------------------------------
def _add_message(
    *,
    case: Case,
    author_kind: str,
    body: str,
    source: str,
    author_user=None,
    author_label: str = "",
    internal: bool = False,
    external_id: str = "",
) -> CaseMessage:
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write a message.")})
    message = CaseMessage(
        case=case,
        author_kind=author_kind,
        author_user=author_user,
        author_label=(author_label or "")[:200],
        body=body[:MAX_BODY],
        internal=internal,
        source=source,
        external_id=external_id[:255],
    )
    message.full_clean()
    message.save()
    return message


@transaction.atomic
def case_reply(
    *,
    case: Case,
    body: str,
    source: str,
    author_user=None,
    author_kind: str = AuthorKind.STAFF,
    internal: bool = False,
    external_id: str = "",
    attachments=(),
    author_label: str = "",
) -> CaseMessage:
    """A message of the staff (or the platform's support team) or of the requester.

    Staff: the first public answer stops the first-answer clock and a new case becomes
    open; it is e-mailed to the requester (an internal note is not).  Requester: a resolved
    case or one waiting for them opens again; the assignee (else the team) is told.
    """
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status in (CaseStatus.CLOSED, CaseStatus.UNVERIFIED):
        raise SupportError(_("This case is closed: open a new one."))
    staff_side = author_kind in (AuthorKind.STAFF, AuthorKind.PLATFORM)
    checked = _attachments_checked(attachments)
    if author_label:  # the platform's support team: people of the public schema
        label = author_label
    elif author_user is not None:
        label = author_user.full_name or author_user.email
    else:
        label = case.requester_name or case.requester_email
    message = _add_message(
        case=case,
        author_kind=author_kind,
        author_user=author_user,
        author_label=label,
        body=body,
        source=source,
        internal=internal and staff_side,
        external_id=external_id,
    )
    _attach(case=case, message=message, checked=checked)
    now = timezone.now()
    if staff_side and not message.internal:
        if case.first_responded_at is None:
            case.first_responded_at = now
        if case.status == CaseStatus.NEW:
            case.status = CaseStatus.OPEN
        case.save()
        _notify(
            recipient=_requester(case),
            kind="support.message",
            event_key=f"support.message:{message.pk}",
            case=case,
            author=label,
            body=message.body,
            link=_requester_link(case),
        )
    elif not staff_side:
        if case.status in (CaseStatus.RESOLVED, CaseStatus.WAITING):
            _resume_resolution(case, now=now)
            case.status = CaseStatus.OPEN
            case.resolved_at = None
        case.save()
        for recipient in _staff_recipients(case):
            _notify(
                recipient=recipient,
                kind="support.message",
                event_key=f"support.message:{message.pk}",
                case=case,
                author=label,
                body=message.body,
                link=_staff_link(case),
            )
    return message


def _requester_link(case: Case) -> str:
    if case.requester_kind == RequesterKind.MANAGER:
        return links.absolute(
            reverse("support:case_detail", args=[case.pk], urlconf=settings.ROOT_URLCONF)
        )
    return links.absolute(links.public_path(case))


_UNSET: Any = object()


@transaction.atomic
def case_update(
    *,
    case: Case,
    by=None,
    status: str | None = None,
    priority: str | None = None,
    assignee: Any = _UNSET,
    queue: str | None = None,
    by_label: str = "",
) -> Case:
    """Status, priority, assignee, queue; each change leaves a line in the conversation
    (internal).  A new priority moves the clocks (from when the case was opened, plus the time
    it waited on its requester); waiting stops the resolution clock until the case leaves that
    status; resolving tells the requester."""
    case = Case.objects.select_for_update(of=("self",)).select_related("assignee").get(pk=case.pk)
    changes: list[str] = []
    now = timezone.now()
    if priority is not None and priority != case.priority:
        case.priority = priority
        if case.opened_at is not None:
            _set_clocks(case, start=case.opened_at)
        changes.append(_("priority: %(value)s") % {"value": case.get_priority_display()})
    if assignee is not _UNSET and (assignee.pk if assignee else None) != case.assignee_id:
        if assignee is not None and not selectors.may_answer(user=assignee, case=case):
            raise ValidationError({"assignee": _("This person may not answer this case.")})
        case.assignee = assignee
        changes.append(
            _("assigned to %(name)s") % {"name": assignee.email}
            if assignee
            else _("no longer assigned")
        )
    if queue is not None and queue != case.queue:
        case.queue = queue
        changes.append(
            _("escalated to the platform's support team")
            if queue == Queue.PLATFORM
            else _("handled by our staff")
        )
    resolved = False
    if status is not None and status != case.status:
        if case.status == CaseStatus.UNVERIFIED or status == CaseStatus.UNVERIFIED:
            raise SupportError(_("A case waiting for its e-mail confirmation cannot change."))
        if case.status == CaseStatus.WAITING:
            _resume_resolution(case, now=now)
        case.status = status
        if status == CaseStatus.WAITING:
            _pause_resolution(case, now=now)
        if status == CaseStatus.RESOLVED:
            case.resolved_at, resolved = now, True
        elif status == CaseStatus.CLOSED:
            case.closed_at = now
            case.resolved_at = case.resolved_at or now
        else:
            case.resolved_at = case.closed_at = None
        changes.append(_("status: %(value)s") % {"value": case.get_status_display()})
    if not changes:
        return case
    case.full_clean()
    case.save()
    who = by_label or ((by.full_name or by.email) if by is not None else _("System"))
    _add_message(
        case=case,
        author_kind=AuthorKind.SYSTEM,
        author_user=by,
        author_label=who,
        body="; ".join(changes),
        source=Source.SYSTEM,
        internal=True,
    )
    if resolved:
        _notify(
            recipient=_requester(case),
            kind="support.resolved",
            event_key=f"support.resolved:{case.pk}:{int(now.timestamp())}",
            case=case,
            link=_requester_link(case),
        )
    return case


# --- Station actions --------------------------------------------------------------------------
def case_station_command(
    *, case: Case, action: str, requester: commands.Requester, by=None
) -> commands.CommandReply:
    """Reset or unlock the case's station through the command service, under the staff
    member's own permission there (``stations.command``); the outcome is noted on the case."""
    if case.station is None:
        raise SupportError(_("No station is attached to this case."))
    station = case.station
    if action == StationAction.UNLOCK:
        evse = case.session.evse if case.session is not None else station.evses.first()
        if evse is None:
            raise SupportError(_("This station has no port to unlock."))
        connector = case.session.connector_id if case.session is not None else 1
        reply = commands.station_unlock(
            requester=requester, station=station, evse_id=evse.evse_id, connector_id=connector
        )
    elif action in (StationAction.SOFT_RESET, StationAction.HARD_RESET):
        kind = "hard" if action == StationAction.HARD_RESET else "soft"
        reply = commands.station_reset(requester=requester, station=station, kind=kind)
    else:
        raise SupportError(_("Unknown action."))
    who = (by.full_name or by.email) if by is not None else requester.actor.label
    _add_message(
        case=case,
        author_kind=AuthorKind.SYSTEM,
        author_user=by,
        author_label=who,
        body=f"{StationAction(action).label} ({station.identity}): {reply.message}",
        source=Source.SYSTEM,
        internal=True,
    )
    return reply


# --- SLA breaches -----------------------------------------------------------------------------
def sla_breaches_alert(*, now: dt.datetime | None = None) -> list[tuple[int, str]]:
    """Mark each late clock once (a conditional update: two runs alert once) and tell the
    assignee, else the team.  Returns (case id, clock) of the alerts made."""
    now = now or timezone.now()
    alerted: list[tuple[int, str]] = []
    for case in selectors.breaches_due(now=now).select_related("assignee")[:500]:
        clocks = []
        if (
            case.first_responded_at is None
            and case.first_response_due_at
            and case.first_response_due_at < now
            and case.first_response_breach_at is None
        ):
            claimed = Case.objects.filter(
                pk=case.pk, first_response_breach_at__isnull=True, first_responded_at__isnull=True
            ).update(first_response_breach_at=now)
            if claimed:
                clocks.append(("first_response", case.first_response_due_at))
        if (
            case.resolution_due_at
            and case.resolution_due_at < now
            and case.resolution_breach_at is None
            and case.status != CaseStatus.WAITING
        ):
            claimed = (
                Case.objects.filter(pk=case.pk, resolution_breach_at__isnull=True)
                .exclude(status=CaseStatus.WAITING)
                .update(resolution_breach_at=now)
            )
            if claimed:
                clocks.append(("resolution", case.resolution_due_at))
        for clock, due in clocks:
            with transaction.atomic():
                for recipient in _staff_recipients(case):
                    _notify(
                        recipient=recipient,
                        kind=f"support.breach_{clock}",
                        event_key=f"support.breach_{clock}:{case.pk}",
                        case=case,
                        link=_staff_link(case),
                        due=due.strftime("%Y-%m-%d %H:%M UTC"),
                    )
            alerted.append((case.pk, clock))
    return alerted


# --- Inbound e-mail ---------------------------------------------------------------------------
_QUOTE_HEADER = re.compile(
    r"^(On .+ wrote:|Le .+ a écrit\s?:|-----\s*Original Message\s*-----|From: .+)$",
    re.IGNORECASE,
)


def reply_text(text: str) -> str:
    """The new part of an e-mail reply: up to the quoted message ("On ... wrote:", lines
    starting with ">")."""
    kept = []
    for line in (text or "").replace("\r\n", "\n").split("\n"):
        if _QUOTE_HEADER.match(line.strip()):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def inbound_email_receive(
    *,
    addressed: links.Addressed,
    sender: str,
    text: str,
    message_id: str = "",
) -> CaseMessage | None:
    """An e-mail that answers a case (in the case's tenant).  Accepted when it came to the
    case's own reply address (its MAC checks), or, found by its subject's reference, from the
    requester's or a staff member's own address.  Staff answers are e-mailed on to the
    requester as if written in the portal; the same e-mail delivered twice is kept once."""
    case = Case.objects.filter(pk=addressed.case_id).first()
    if case is None:
        logger.info("Inbound e-mail for unknown case %s", addressed.case_id)
        return None
    if message_id and CaseMessage.objects.filter(external_id=message_id[:255]).exists():
        return None
    sender = (sender or "").strip().lower()
    staff = selectors.staff_by_email(email=sender, case=case) if sender else None
    from_requester = sender == case.requester_email.lower()
    if not addressed.mac_matches(case.secret) and not (from_requester or staff):
        logger.warning("Inbound e-mail for case %s refused (sender %s)", case.pk, sender)
        return None
    body = reply_text(text)
    if not body:
        return None
    try:
        if staff is not None and not from_requester:
            return case_reply(
                case=case,
                body=body,
                source=Source.EMAIL,
                author_user=staff,
                author_kind=AuthorKind.STAFF,
                external_id=message_id,
            )
        return case_reply(
            case=case,
            body=body,
            source=Source.EMAIL,
            author_user=case.requester_user if from_requester else None,
            author_kind=AuthorKind.REQUESTER,
            external_id=message_id,
        )
    except SupportError:
        logger.info("Inbound e-mail for closed case %s dropped", case.pk)
        return None


# --- Canned answers ---------------------------------------------------------------------------
@transaction.atomic
def canned_answer_create(*, title: str, body: str, language: str = "") -> CannedAnswer:
    answer = CannedAnswer(title=title.strip(), body=body.strip(), language=language)
    answer.full_clean()
    answer.save()
    return answer


@transaction.atomic
def canned_answer_update(
    *, answer: CannedAnswer, title: str, body: str, language: str = ""
) -> CannedAnswer:
    answer.title, answer.body, answer.language = title.strip(), body.strip(), language
    answer.full_clean()
    answer.save()
    return answer


@transaction.atomic
def canned_answer_delete(*, answer: CannedAnswer) -> None:
    answer.delete()
