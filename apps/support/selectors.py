"""Reads: the settings in force, cases and their conversation as an actor sees them, who may
be assigned, and the SLA breaches due."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet

from apps.accounts.models import User
from apps.core.scoping import Actor
from apps.roles.selectors import UserActor

from .choices import ACTIVE_STATUSES, CaseStatus
from .models import CannedAnswer, Case, CaseAttachment, CaseMessage, SupportSettings


def settings_get() -> SupportSettings:
    """The saved settings, or the defaults (unsaved) when the tenant never changed them."""
    return SupportSettings.objects.filter(singleton=True).first() or SupportSettings()


def case_list(*, actor: Actor, permission: str = "support.view") -> QuerySet[Case]:
    return (
        Case.objects.restrict(actor, permission)
        .exclude(status=CaseStatus.UNVERIFIED)
        .select_related("site", "station", "assignee")
    )


def case_conversation(*, case: Case, include_internal: bool) -> QuerySet[CaseMessage]:
    messages = case.messages.select_related("author_user").prefetch_related("attachments")
    return messages if include_internal else messages.filter(internal=False)


def case_attachment(*, case: Case, attachment_id: int, include_internal: bool) -> CaseAttachment:
    """One file of the case's conversation, as a reader of it may see it (404 otherwise)."""
    files = CaseAttachment.objects.filter(case=case).select_related("message")
    if not include_internal:
        files = files.filter(message__internal=False)
    return files.get(pk=attachment_id)


def canned_answer_list(*, actor: Actor) -> QuerySet[CannedAnswer]:
    return CannedAnswer.objects.restrict(actor, "support.answer")


def assignable_staff(*, site_id: int | None) -> list[User]:
    """People who may answer cases of this site (support.answer there; a case with no site:
    on every site)."""
    staff = []
    for user in User.objects.filter(is_active=True).order_by("email"):
        scope = UserActor(user).scope_for("support.answer")
        if scope.all_sites or (site_id is not None and scope.covers_site(site_id)):
            staff.append(user)
    return staff


def may_answer(*, user: User, case: Case) -> bool:
    scope = UserActor(user).scope_for("support.answer")
    return scope.all_sites or scope.covers_site(case.site_id)


def staff_by_email(*, email: str, case: Case) -> User | None:
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is not None and may_answer(user=user, case=case):
        return user
    return None


def breaches_due(*, now: dt.datetime) -> QuerySet[Case]:
    """Active cases whose first answer or resolution is late and not yet alerted."""
    late_answer = Q(
        first_responded_at__isnull=True,
        first_response_due_at__lt=now,
        first_response_breach_at__isnull=True,
    )
    # A case waiting on its requester has its resolution clock stopped.
    late_resolution = Q(resolution_due_at__lt=now, resolution_breach_at__isnull=True) & ~Q(
        status=CaseStatus.WAITING
    )
    return Case.objects.filter(status__in=ACTIVE_STATUSES).filter(late_answer | late_resolution)


def counts_by_status(*, actor: Actor) -> dict[str, int]:
    rows = case_list(actor=actor).values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}
