"""The platform operator's support desk: cases of every tenant, on the public host.

Platform operators are people of the public schema (``accounts.User`` rows there, signed in
through the operator's admin at ``/admin/``); they are never a tenant's user, so they hold no
role in any tenant.  Who may use the desk: an active public-schema user with ``is_staff``
(the same people who may open the operator's admin).

Reads fan out: one query per tenant schema (``tenant_context``), merged and sorted here.  No
row of one tenant is ever shown under another's name: every row carries the tenant it was
read in, and a case is always looked up again inside its own tenant's schema by its slug.
Replies and status changes go through the tenant's own services (``case_reply`` with
``author_kind=platform``, ``case_update``) inside that schema, so the requester is e-mailed
and the case's history is written exactly as when the tenant's staff answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_tenants.utils import get_public_schema_name, tenant_context

from apps.tenants.selectors import tenant_by_slug, tenant_list

from . import selectors, services
from .choices import ACTIVE_STATUSES, AuthorKind, CaseStatus, Queue, Source
from .forms import ReplyForm
from .models import Case, CaseAttachment
from .views import serve_attachment

ROWS_PER_TENANT = 200


@dataclass
class Row:
    tenant_slug: str
    tenant_name: str
    case: Case


def _operator(view):
    """Public host only, staff of the public schema only (else the admin's sign-in page)."""
    protected = staff_member_required(view, login_url="admin:login")

    def wrapped(request, *args, **kwargs):
        if connection.schema_name != get_public_schema_name():
            raise Http404
        return protected(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _label(user) -> str:
    return _("%(name)s (platform support)") % {"name": user.full_name or user.email}


def cases_of_every_tenant(*, queue: str = Queue.PLATFORM, active_only: bool = True) -> list[Row]:
    rows: list[Row] = []
    for tenant in tenant_list().order_by("slug"):
        with tenant_context(tenant):
            cases = Case.objects.exclude(status=CaseStatus.UNVERIFIED).select_related(
                "site", "station"
            )
            if queue:
                cases = cases.filter(queue=queue)
            if active_only:
                cases = cases.filter(status__in=ACTIVE_STATUSES)
            found = list(cases.order_by("-created_at", "-id")[:ROWS_PER_TENANT])
        rows.extend(Row(tenant.slug, tenant.name, case) for case in found)

    def due(row: Row):
        case = row.case
        clock = case.first_response_due_at if case.first_responded_at is None else None
        moment = clock or case.resolution_due_at or case.created_at
        return (case.status not in ACTIVE_STATUSES, moment)

    rows.sort(key=due)
    return rows


@_operator
def case_list(request):
    queue = request.GET.get("queue", Queue.PLATFORM)
    if queue not in (Queue.PLATFORM, Queue.TENANT, ""):
        queue = Queue.PLATFORM
    active_only = request.GET.get("all") != "1"
    rows = cases_of_every_tenant(queue=queue, active_only=active_only)
    return render(
        request,
        "support/platform_list.html",
        {"rows": rows, "queue": queue, "active_only": active_only, "queues": Queue.choices},
    )


def _tenant(slug: str):
    tenant = tenant_by_slug(slug)
    if tenant is None:
        raise Http404
    return tenant


def _case(pk: int) -> Case:
    case = (
        Case.objects.exclude(status=CaseStatus.UNVERIFIED)
        .select_related("site", "station", "session", "assignee")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404
    return case


@_operator
def case_detail(request, slug: str, pk: int):
    tenant = _tenant(slug)
    with tenant_context(tenant):  # everything read here; the page is drawn on the public host
        case = _case(pk)
        conversation = list(selectors.case_conversation(case=case, include_internal=True))
    return render(
        request,
        "support/platform_case.html",
        {
            "network": tenant,
            "case": case,
            "conversation": conversation,
            "reply_form": ReplyForm(),
            "statuses": [c for c in CaseStatus.choices if c[0] != CaseStatus.UNVERIFIED],
            "closed": case.status == CaseStatus.CLOSED,
        },
    )


@_operator
@require_POST
def case_reply(request, slug: str, pk: int):
    tenant = _tenant(slug)
    back = HttpResponseRedirect(reverse("platform_support_case", args=[slug, pk]))
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Write a message."))
        return back
    with tenant_context(tenant):
        case = _case(pk)
        try:
            services.case_reply(
                case=case,
                body=form.cleaned_data["body"],
                internal=form.cleaned_data["internal"],
                author_kind=AuthorKind.PLATFORM,
                author_label=_label(request.user),
                source=Source.PLATFORM,
                attachments=request.FILES.getlist("attachment"),
            )
            if form.cleaned_data["then"]:
                services.case_update(
                    case=case, status=form.cleaned_data["then"], by_label=_label(request.user)
                )
        except (services.SupportError, ValidationError) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, _("Answer sent."))
    return back


@_operator
@require_POST
def case_update(request, slug: str, pk: int):
    tenant = _tenant(slug)
    status = request.POST.get("status", "")
    queue = request.POST.get("queue", "")
    with tenant_context(tenant):
        case = _case(pk)
        try:
            services.case_update(
                case=case,
                status=status if status in CaseStatus.values else None,
                queue=queue if queue in Queue.values else None,
                by_label=_label(request.user),
            )
        except (services.SupportError, ValidationError) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    return HttpResponseRedirect(reverse("platform_support_case", args=[slug, pk]))


@_operator
def attachment(request, slug: str, pk: int, attachment_id: int):
    tenant = _tenant(slug)
    with tenant_context(tenant):
        case = _case(pk)
        try:
            found = selectors.case_attachment(
                case=case, attachment_id=attachment_id, include_internal=True
            )
        except CaseAttachment.DoesNotExist as error:
            raise Http404 from error
        return serve_attachment(found)
