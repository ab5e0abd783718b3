"""Portal pages (cases, canned answers, settings) and the driver's pages: opening a case
without signing in, confirming one's e-mail, following the conversation by a signed link."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.generic import View

from apps.audit.services import client_ip
from apps.charging.models import ChargingSession
from apps.core.views import PermissionRequiredMixin, ScopedDetailView, ScopedListView
from apps.ocpp import commands
from apps.stations.models import Station

from . import links, ratelimit, selectors, services
from .choices import (
    ACTIVE_STATUSES,
    AuthorKind,
    CaseStatus,
    Queue,
    RequesterKind,
    Source,
    StationAction,
)
from .filtersets import CannedAnswerFilterSet, CaseFilterSet
from .forms import (
    CannedAnswerForm,
    CaseUpdateForm,
    DriverCaseForm,
    DriverReplyForm,
    ManagerCaseForm,
    ReplyForm,
    StationActionForm,
    SupportSettingsForm,
)
from .models import CannedAnswer, Case, CaseAttachment


def _errors_to_form(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


# --- Staff: cases -----------------------------------------------------------------------------
class CaseListView(ScopedListView):
    model = Case
    permission = "support.view"
    filterset_class = CaseFilterSet
    filter_fields = ("status", "priority", "category", "queue", "q")
    template_name = "support/case_list.html"

    def get_queryset(self):
        queryset = super().get_queryset().exclude(status=CaseStatus.UNVERIFIED)
        if not self.request.GET.get("status") and not self.request.GET.get("q"):
            queryset = queryset.filter(status__in=ACTIVE_STATUSES)  # the work to do
        return queryset.select_related("site", "station", "assignee")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        actor = self.request.actor
        context["may_open"] = not actor.scope_for("support.open").empty
        context["may_answer"] = not actor.scope_for("support.answer").empty
        context["may_manage"] = actor.scope_for("support.manage").all_sites
        context["counts"] = selectors.counts_by_status(actor=actor)
        return context


class CaseDetailView(ScopedDetailView):
    model = Case
    permission = "support.view"
    template_name = "support/case_detail.html"
    context_object_name = "case"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .exclude(status=CaseStatus.UNVERIFIED)
            .select_related("site", "station", "session", "assignee", "requester_user")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        case = self.object
        may_answer = self.may("support.answer", case.site_id)
        staff = selectors.assignable_staff(site_id=case.site_id) if may_answer else []
        context.update(
            reference=links.reference(case),
            may_answer=may_answer,
            is_requester=case.requester_user_id == self.request.user.pk,
            may_command=case.station is not None
            and self.may("stations.command", case.station.site_id),
            conversation=selectors.case_conversation(case=case, include_internal=may_answer),
            reply_form=ReplyForm(),
            followup_form=DriverReplyForm(),
            update_form=CaseUpdateForm(
                staff=staff,
                initial={
                    "status": case.status,
                    "priority": case.priority,
                    "assignee": case.assignee_id,
                    "escalated": case.queue == Queue.PLATFORM,
                },
            ),
            canned=selectors.canned_answer_list(actor=self.request.actor) if may_answer else [],
            station_actions=StationAction.choices,
            closed=case.status == CaseStatus.CLOSED,
        )
        return context


def _answerable_case(request, pk: int, permission: str) -> Case:
    return get_object_or_404(
        Case.objects.restrict(request.actor, permission).exclude(status=CaseStatus.UNVERIFIED),
        pk=pk,
    )


class CaseCreateView(PermissionRequiredMixin, View):
    """A station manager asks for help (the platform's support team answers by default)."""

    permission = "support.open"

    def _form(self, request, data=None, files=None):
        stations = Station.objects.restrict(request.actor, "support.open").order_by("identity")
        initial = {}
        if request.GET.get("station"):
            initial["station"] = stations.filter(pk=request.GET["station"]).first()
        return ManagerCaseForm(data, files, stations=stations, initial=initial)

    def get(self, request):
        return render(request, "support/case_form.html", {"form": self._form(request)})

    def post(self, request):
        form = self._form(request, request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = services.case_open(
                    requester_kind=RequesterKind.MANAGER,
                    requester_email=request.user.email,
                    requester_name=request.user.full_name,
                    requester_user=request.user,
                    language=request.user.language or get_language(),
                    subject=data["subject"],
                    category=data["category"],
                    priority=data["priority"],
                    description=data["description"],
                    station=data["station"],
                    source=Source.PORTAL,
                    attachments=request.FILES.getlist("attachment"),
                )
            except ValidationError as error:
                _errors_to_form(form, error)
            else:
                messages.success(request, _("Your request was sent to support."))
                return HttpResponseRedirect(reverse("support:case_detail", args=[case.pk]))
        return render(request, "support/case_form.html", {"form": form})


class CaseReplyView(PermissionRequiredMixin, View):
    """Staff answer (or leave an internal note), and may resolve in the same step."""

    permission = "support.answer"

    def post(self, request, pk):
        case = _answerable_case(request, pk, self.permission)
        form = ReplyForm(request.POST, request.FILES)
        if not form.is_valid():
            messages.error(request, _("Write a message."))
            return HttpResponseRedirect(reverse("support:case_detail", args=[pk]))
        try:
            services.case_reply(
                case=case,
                body=form.cleaned_data["body"],
                internal=form.cleaned_data["internal"],
                author_user=request.user,
                author_kind=AuthorKind.STAFF,
                source=Source.PORTAL,
                attachments=request.FILES.getlist("attachment"),
            )
            if form.cleaned_data["then"]:
                services.case_update(case=case, by=request.user, status=form.cleaned_data["then"])
        except (services.SupportError, ValidationError) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            if form.cleaned_data["internal"]:
                messages.success(request, _("Note added."))
            else:
                messages.success(request, _("Answer sent."))
        return HttpResponseRedirect(reverse("support:case_detail", args=[pk]))


class CaseFollowupView(PermissionRequiredMixin, View):
    """The station manager who opened a case adds to it."""

    permission = "support.open"

    def post(self, request, pk):
        case = _answerable_case(request, pk, "support.view")
        if case.requester_user_id != request.user.pk:
            raise PermissionDenied
        form = DriverReplyForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.case_reply(
                    case=case,
                    body=form.cleaned_data["body"],
                    author_user=request.user,
                    author_kind=AuthorKind.REQUESTER,
                    source=Source.PORTAL,
                    attachments=request.FILES.getlist("attachment"),
                )
            except (services.SupportError, ValidationError) as error:
                messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
            else:
                messages.success(request, _("Message sent."))
        return HttpResponseRedirect(reverse("support:case_detail", args=[pk]))


class CaseUpdateView(PermissionRequiredMixin, View):
    permission = "support.answer"

    def post(self, request, pk):
        case = _answerable_case(request, pk, self.permission)
        staff = selectors.assignable_staff(site_id=case.site_id)
        form = CaseUpdateForm(request.POST, staff=staff)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.case_update(
                    case=case,
                    by=request.user,
                    status=data["status"],
                    priority=data["priority"],
                    assignee=data["assignee"],
                    queue=Queue.PLATFORM if data["escalated"] else Queue.TENANT,
                )
            except (services.SupportError, ValidationError) as error:
                messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
            else:
                messages.success(request, _("Case updated."))
        else:
            messages.error(request, _("Check the case's fields."))
        return HttpResponseRedirect(reverse("support:case_detail", args=[pk]))


class CaseCommandView(PermissionRequiredMixin, View):
    """One click on the attached station (reset, unlock), with the staff member's own right to
    command it: the command service checks ``stations.command`` on the station's site."""

    permission = "stations.command"

    def post(self, request, pk):
        case = _answerable_case(request, pk, "support.answer")
        form = StationActionForm(request.POST)
        if not form.is_valid():
            raise Http404
        requester = commands.Requester(actor=request.actor, source="portal", ip=client_ip(request))
        try:
            reply = services.case_station_command(
                case=case, action=form.cleaned_data["action"], requester=requester, by=request.user
            )
        except services.SupportError as error:
            messages.error(request, str(error))
        else:
            (messages.success if reply.ok else messages.error)(request, reply.message)
        return HttpResponseRedirect(reverse("support:case_detail", args=[pk]))


# --- Staff: canned answers and settings -------------------------------------------------------
class CannedAnswerListView(ScopedListView):
    model = CannedAnswer
    permission = "support.answer"
    filterset_class = CannedAnswerFilterSet
    template_name = "support/cannedanswer_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_manage"] = self.request.actor.scope_for("support.manage").all_sites
        return context


class _TenantWideMixin(PermissionRequiredMixin):
    """Canned answers and settings are the whole tenant's: managed with support on every site."""

    permission = "support.manage"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.actor.scope_for(self.permission).all_sites:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class CannedAnswerFormView(_TenantWideMixin, View):
    def _answer(self, pk):
        return get_object_or_404(CannedAnswer, pk=pk) if pk is not None else None

    def get(self, request, pk=None):
        answer = self._answer(pk)
        form = CannedAnswerForm(instance=answer)
        return render(request, "support/cannedanswer_form.html", {"form": form, "answer": answer})

    def post(self, request, pk=None):
        answer = self._answer(pk)
        form = CannedAnswerForm(request.POST, instance=answer)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if answer is None:
                    services.canned_answer_create(**data)
                else:
                    services.canned_answer_update(answer=answer, **data)
            except ValidationError as error:
                _errors_to_form(form, error)
            else:
                messages.success(request, _("Canned answer saved."))
                return HttpResponseRedirect(reverse("support:cannedanswer_list"))
        return render(request, "support/cannedanswer_form.html", {"form": form, "answer": answer})


class CannedAnswerDeleteView(_TenantWideMixin, View):
    def post(self, request, pk):
        services.canned_answer_delete(answer=get_object_or_404(CannedAnswer, pk=pk))
        messages.success(request, _("Canned answer deleted."))
        return HttpResponseRedirect(reverse("support:cannedanswer_list"))


class SettingsView(_TenantWideMixin, View):
    def get(self, request):
        form = SupportSettingsForm(instance=selectors.settings_get())
        return render(request, "support/settings_form.html", {"form": form})

    def post(self, request):
        form = SupportSettingsForm(request.POST, instance=selectors.settings_get())
        if form.is_valid():
            try:
                services.settings_update(**form.cleaned_data)
            except ValidationError as error:
                _errors_to_form(form, error)
            else:
                messages.success(request, _("Support settings saved."))
                return HttpResponseRedirect(reverse("support:supportsettings_edit"))
        return render(request, "support/settings_form.html", {"form": form})


# --- Drivers (no sign-in) ---------------------------------------------------------------------
def _attached(context: links.OpenContext) -> tuple[Station | None, ChargingSession | None]:
    station = (
        Station.objects.select_related("site").filter(identity=context.station).first()
        if context.station
        else None
    )
    session = (
        ChargingSession.objects.select_related("station__site").filter(pk=context.session).first()
        if context.session
        else None
    )
    if session is not None and station is not None and session.station_id != station.pk:
        session = None  # a link that names two things that do not go together: keep the station
    return station, session


class OpenView(View):
    """The driver's form, reached from a station's QR code or page (``?station=<identity>``)
    or from a receipt (``?session=<id>&receipt=<number>``, signed with ``&sig=``)."""

    def _context(self, request):
        context = links.open_context(request.GET)
        station, session = _attached(context)
        return context, station, session

    def get(self, request):
        context, station, session = self._context(request)
        form = DriverCaseForm(initial={"language": get_language(), "email": context.email})
        return render(
            request,
            "support/open.html",
            {"form": form, "station": station or (session.station if session else None)},
        )

    def post(self, request):
        context, station, session = self._context(request)
        form = DriverCaseForm(request.POST, request.FILES)
        shown_station = station or (session.station if session else None)
        page = {"form": form, "station": shown_station}
        if not form.is_valid():
            return render(request, "support/open.html", page)
        data = form.cleaned_data
        email = data["email"].strip().lower()
        if not (
            ratelimit.hit("open_ip", client_ip(request) or "unknown")
            and ratelimit.hit("open_email", email)
        ):
            form.add_error(None, _("Too many requests: please try again in an hour."))
            return render(request, "support/open.html", page, status=429)
        vouched = bool(context.email) and context.email == email
        try:
            case = services.case_open(
                requester_kind=RequesterKind.DRIVER,
                requester_email=email,
                requester_name=data["name"],
                language=data["language"],
                subject=data["subject"],
                category=data["category"],
                description=data["description"],
                station=station,
                session=session,
                receipt_number=context.receipt,
                source=Source.PUBLIC,
                verified=vouched,
                attachments=request.FILES.getlist("attachment"),
            )
        except ValidationError as error:
            _errors_to_form(form, error)
            return render(request, "support/open.html", page)
        if vouched:
            return HttpResponseRedirect(links.public_path(case))
        return render(request, "support/check_email.html", {"email": email})


def _case_from(signed: str, reader) -> Case:
    found = reader(signed)
    if found is None:
        raise Http404
    case_id, key = found
    case = Case.objects.filter(pk=case_id).select_related("station").first()
    if case is None or not case.secret.startswith(key):
        raise Http404
    return case


class VerifyView(View):
    """The link of the confirmation e-mail.  GET asks for a click (mail scanners follow
    links), POST opens the case."""

    def get(self, request, signed):
        case = _case_from(signed, links.case_id_from_verify)
        if case.status != CaseStatus.UNVERIFIED:
            return HttpResponseRedirect(links.public_path(case))
        return render(request, "support/verify.html", {"case": case})

    def post(self, request, signed):
        case = _case_from(signed, links.case_id_from_verify)
        services.case_verify(case=case)
        return HttpResponseRedirect(links.public_path(case))


class PublicCaseView(View):
    """The driver's page of their case: the conversation (no internal notes) and a reply."""

    def _page(self, request, case, form, status=200):
        return render(
            request,
            "support/case_public.html",
            {
                "case": case,
                "reference": links.reference(case),
                "conversation": selectors.case_conversation(case=case, include_internal=False),
                "form": form,
                "signed": self.kwargs["signed"],
                "closed": case.status in (CaseStatus.CLOSED, CaseStatus.UNVERIFIED),
            },
            status=status,
        )

    def get(self, request, signed):
        case = _case_from(signed, links.case_id_from_public)
        return self._page(request, case, DriverReplyForm())

    def post(self, request, signed):
        case = _case_from(signed, links.case_id_from_public)
        form = DriverReplyForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._page(request, case, form)
        if not ratelimit.hit("reply_case", str(case.pk)):
            form.add_error(None, _("Too many messages: please try again in an hour."))
            return self._page(request, case, form, status=429)
        try:
            services.case_reply(
                case=case,
                body=form.cleaned_data["body"],
                author_user=case.requester_user,
                author_kind=AuthorKind.REQUESTER,
                source=Source.PUBLIC,
                attachments=request.FILES.getlist("attachment"),
            )
        except services.SupportError as error:
            form.add_error(None, str(error))
            return self._page(request, case, form)
        except ValidationError as error:
            _errors_to_form(form, error)
            return self._page(request, case, form)
        return HttpResponseRedirect(request.path)


def serve_attachment(attachment: CaseAttachment) -> FileResponse:
    """The stored file, never interpreted by the browser as anything but its checked type:
    images shown, PDFs downloaded; no sniffing, a sandbox, not cached by shared caches."""
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error
    response = FileResponse(
        handle,
        content_type=attachment.content_type,
        as_attachment=not attachment.content_type.startswith("image/"),
        filename=attachment.name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


class AttachmentView(PermissionRequiredMixin, View):
    """A file of a case, for staff who see the case (internal notes' files: who may answer)."""

    permission = "support.view"

    def get(self, request, pk, attachment_id):
        case = _answerable_case(request, pk, self.permission)
        include_internal = request.actor.scope_for("support.answer").covers_site(case.site_id)
        try:
            attachment = selectors.case_attachment(
                case=case, attachment_id=attachment_id, include_internal=include_internal
            )
        except CaseAttachment.DoesNotExist as error:
            raise Http404 from error
        return serve_attachment(attachment)


class PublicAttachmentView(View):
    """A file of the driver's case, by the case's signed link (never an internal note's)."""

    def get(self, request, signed, attachment_id):
        case = _case_from(signed, links.case_id_from_public)
        try:
            attachment = selectors.case_attachment(
                case=case, attachment_id=attachment_id, include_internal=False
            )
        except CaseAttachment.DoesNotExist as error:
            raise Http404 from error
        return serve_attachment(attachment)
