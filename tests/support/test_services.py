"""Cases from opening to resolution: clocks, the conversation, e-mail through the notification
service (delivered here to Django's test outbox), breach alerts, station commands."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.notifications import services as notifications
from apps.notifications.models import Notification
from apps.ocpp import commands
from apps.roles.selectors import UserActor
from apps.support import links, services
from apps.support.choices import AuthorKind, CaseStatus, Queue, Source, StationAction
from apps.support.models import Case


def driver_case(desk, **overrides):
    values = {
        "requester_kind": "driver",
        "requester_email": "Ana@Example.org",
        "requester_name": "Ana",
        "subject": "Charged but it failed",
        "category": "charge_failed",
        "description": "The session stopped after a minute and I was charged.",
        "source": Source.PUBLIC,
        "session": desk.session_a1,
        "receipt_number": "R-2025-0001",
        "language": "fr",
    }
    values.update(overrides)
    return services.case_open(**values)


def sent(kind: str) -> list[Notification]:
    return list(Notification.objects.filter(kind=kind).select_related("contact"))


def deliver(rows: list[Notification]) -> None:
    for row in rows:
        notifications.notification_deliver(notification_id=row.pk)


def test_a_drivers_unconfirmed_case_waits_for_the_confirmation_link(desk, settings):
    settings.SUPPORT_REPLY_DOMAIN = "reply.test"
    case = driver_case(desk, verified=False)
    assert case.status == CaseStatus.UNVERIFIED
    assert case.first_response_due_at is None
    # attached from the session: its station and site
    assert (case.station, case.site) == (desk.station_a1, desk.station_a1.site)
    assert case.requester_email == "ana@example.org" and case.queue == Queue.TENANT
    [verify] = sent("support.verify")
    assert verify.contact.email == "ana@example.org"
    assert "/support/help/confirm/" in verify.context["link"]
    assert sent("support.opened") == []

    before = timezone.now()
    case = services.case_verify(case=case)
    assert case.status == CaseStatus.NEW
    # a driver's clock runs round the clock: 4 h for a normal case
    assert case.first_response_due_at - case.opened_at == dt.timedelta(hours=4)
    assert case.opened_at >= before
    assert services.case_verify(case=case).opened_at == case.opened_at  # twice: no change
    [opened] = sent("support.opened")
    deliver([opened])
    [email] = mail.outbox
    assert email.subject.startswith(f"[{links.reference(case)}]")  # in French: the case's
    assert "Nous avons votre demande" in email.subject or "We have your request" in email.subject
    assert email.reply_to == [links.reply_address(case)]
    assert links.reply_address(case).startswith(f"case+alpha.{case.pk}.")


def test_a_session_from_another_station_is_refused(desk):
    with pytest.raises(ValidationError):
        driver_case(desk, station=desk.station_a2)


def test_staff_answer_is_emailed_and_stops_the_first_answer_clock(desk, personas):
    case = driver_case(desk)
    mail.outbox.clear()
    note = services.case_reply(
        case=case,
        body="Checking the logs.",
        internal=True,
        author_user=personas.owner,
        source=Source.PORTAL,
    )
    assert note.internal
    case.refresh_from_db()
    assert case.first_responded_at is None  # a note is not an answer
    answer = services.case_reply(
        case=case,
        body="We refunded the session.",
        author_user=personas.owner,
        source=Source.PORTAL,
    )
    case.refresh_from_db()
    assert case.first_responded_at is not None and case.status == CaseStatus.OPEN
    rows = sent("support.message")
    assert [row.contact.email for row in rows] == ["ana@example.org"]  # not the note
    deliver(rows)
    assert "We refunded the session." in mail.outbox[-1].body
    assert answer.author_kind == AuthorKind.STAFF

    services.case_update(case=case, by=personas.owner, status=CaseStatus.RESOLVED)
    case.refresh_from_db()
    assert case.resolved_at is not None
    assert len(sent("support.resolved")) == 1
    # The driver answers: the case opens again and the team hears of it.
    services.settings_update(team_email="team@alpha.test")
    services.case_reply(
        case=case, body="Still not refunded.", author_kind=AuthorKind.REQUESTER, source="public"
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN and case.resolved_at is None
    assert "team@alpha.test" in [row.contact.email for row in sent("support.message")]
    # Closed: nothing more joins it.
    services.case_update(case=case, by=personas.owner, status=CaseStatus.CLOSED)
    with pytest.raises(services.SupportError):
        services.case_reply(case=case, body="hello", author_kind="requester", source="public")


def test_a_managers_case_counts_business_hours_and_goes_to_the_platform(desk, personas):
    services.settings_update(
        business_opens=dt.time(9, 0), business_closes=dt.time(17, 0), business_timezone="UTC"
    )
    case = services.case_open(
        requester_kind="manager",
        requester_email=personas.owner.email,
        requester_user=personas.owner,
        subject="Station keeps rebooting",
        category="station_fault",
        priority="high",
        description="Since the firmware update.",
        source=Source.PORTAL,
        station=desk.station_a1,
    )
    assert case.queue == Queue.PLATFORM
    config = services.selectors.settings_get()
    expected = services.sla.due_at(
        case.opened_at, config.first_response_minutes * 0.5, config.business_hours()
    )
    assert case.first_response_due_at == expected
    # a new priority moves the clocks from the opening
    services.case_update(case=case, by=personas.owner, priority="low")
    case.refresh_from_db()
    assert case.first_response_due_at == services.sla.due_at(
        case.opened_at, config.first_response_minutes * 2, config.business_hours()
    )
    assert case.messages.filter(author_kind=AuthorKind.SYSTEM, internal=True).exists()


def test_breaches_are_alerted_once_to_the_assignee(desk, personas):
    case = driver_case(desk)
    services.case_update(case=case, by=personas.owner, assignee=personas.delegate)
    later = timezone.now() + dt.timedelta(hours=5)
    assert services.sla_breaches_alert(now=later) == [(case.pk, "first_response")]
    assert services.sla_breaches_alert(now=later) == []  # a second run: nothing new
    [alert] = sent("support.breach_first_response")
    assert alert.contact.email == personas.delegate.email
    much_later = timezone.now() + dt.timedelta(days=4)
    assert services.sla_breaches_alert(now=much_later) == [(case.pk, "resolution")]
    case.refresh_from_db()
    assert case.first_response_breach_at and case.resolution_breach_at


def test_only_people_who_may_answer_the_sites_cases_are_assigned(desk, personas):
    case = driver_case(desk, session=None, station=desk.station_a2)
    with pytest.raises(ValidationError):
        # the delegate answers site A1's cases only
        services.case_update(case=case, by=personas.owner, assignee=personas.delegate)


def test_station_commands_use_the_staff_members_own_permission(desk, personas):
    case = driver_case(desk)
    outsider = commands.Requester(actor=UserActor(personas.outsider))
    with pytest.raises(PermissionDenied):
        services.case_station_command(case=case, action=StationAction.UNLOCK, requester=outsider)
    owner = commands.Requester(actor=UserActor(personas.owner))
    reply = services.case_station_command(
        case=case, action=StationAction.SOFT_RESET, requester=owner, by=personas.owner
    )
    assert not reply.ok and isinstance(reply.error, commands.StationOffline)
    note = case.messages.filter(author_kind=AuthorKind.SYSTEM).last()
    assert note.internal and "SUP-A1" in note.body


def test_reply_text_keeps_only_the_new_part():
    text = "Thanks, it works.\n\nOn Tue, Jan 14, 2025 Support wrote:\n> We reset it.\n"
    assert services.reply_text(text) == "Thanks, it works."
    assert services.reply_text("> only quoted\n") == ""


def test_unconfirmed_cases_are_purged(desk):
    case = driver_case(desk, verified=False)
    Case.objects.filter(pk=case.pk).update(created_at=timezone.now() - dt.timedelta(days=4))
    assert services.unverified_purge() == 2  # the case and its message
    assert not Case.objects.filter(pk=case.pk).exists()


def test_waiting_on_the_requester_pauses_the_resolution_clock(desk, personas):
    case = driver_case(desk)
    due = case.resolution_due_at
    services.case_reply(case=case, body="Which port?", source="portal", author_user=personas.owner)
    services.case_update(case=case, by=personas.owner, status=CaseStatus.WAITING)
    case.refresh_from_db()
    assert case.waiting_since is not None
    # Waiting past the due date alerts nothing: the clock is stopped.
    assert services.sla_breaches_alert(now=due + dt.timedelta(hours=1)) == []
    # The wait lasted ten hours (a driver's clock runs round the clock): the due date moves
    # ten hours, and the requester's answer reopens the case.
    Case.objects.filter(pk=case.pk).update(waiting_since=timezone.now() - dt.timedelta(hours=10))
    services.case_reply(case=case, body="Port 2.", source="public", author_kind="requester")
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN and case.waiting_since is None
    assert abs(case.paused_minutes - 600) < 1
    assert abs((case.resolution_due_at - due) - dt.timedelta(hours=10)) < dt.timedelta(minutes=1)
    # A new priority keeps the pause.
    services.case_update(case=case, by=personas.owner, priority="low")
    case.refresh_from_db()
    assert abs(
        case.resolution_due_at - (case.opened_at + dt.timedelta(days=6, hours=10))
    ) < dt.timedelta(minutes=1)
    # Past the moved due date, the breach is alerted.
    late = case.resolution_due_at + dt.timedelta(minutes=1)
    assert (case.pk, "resolution") in services.sla_breaches_alert(now=late)


def test_a_wait_that_began_late_does_not_excuse_the_breach(desk, personas):
    case = driver_case(desk)
    due = case.resolution_due_at
    services.case_update(case=case, by=personas.owner, status=CaseStatus.WAITING)
    Case.objects.filter(pk=case.pk).update(waiting_since=due + dt.timedelta(hours=1))
    services.case_update(case=case, by=personas.owner, status=CaseStatus.OPEN)
    case.refresh_from_db()
    assert case.resolution_due_at == due and case.paused_minutes == 0
