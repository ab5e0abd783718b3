"""Portal pages of charging sessions: the list (filters shared with the API), one session with
its power curve, and the CSV export of exactly what the list shows."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View

from apps.audit.services import audit_record_for_request
from apps.core import panels
from apps.core.views import PanelsMixin, PermissionRequiredMixin, ScopedDetailView, ScopedListView

from . import services
from .filtersets import ChargingSessionFilterSet, IdTokenFilterSet
from .forms import IdTokenForm
from .models import ChargingSession, IdToken
from .selectors import power_series

CSV_COLUMNS = (
    "session_id",
    "transaction_id",
    "site",
    "station",
    "port",
    "token",
    "driver",
    "status",
    "started_at",
    "ended_at",
    "duration_s",
    "energy_wh",
    "stop_reason",
)


class SessionListView(ScopedListView):
    model = ChargingSession
    permission = "sessions.view"
    filterset_class = ChargingSessionFilterSet
    template_name = "charging/session_list.html"
    filter_fields = (
        "q",
        "started_after",
        "started_before",
        "site_id",
        "station_id",
        "token",
        "driver",
        "status",
    )

    def get_queryset(self):
        return super().get_queryset().select_related("station", "station__site", "evse", "token")

    filter_labels = {
        "site_id": _("Site"),
        "station_id": _("Station"),
        "started_after": _("Started from"),
        "started_before": _("Started until"),
        "token": _("Token"),
        "driver": _("Driver"),
        "status": _("Status"),
    }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["export_query"] = self.request.GET.urlencode()
        return context


def _cell(value):
    """Text that a spreadsheet would run as a formula is quoted (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose write returns the line (for streaming CSV)."""

    def write(self, value: str) -> str:
        return value


def csv_rows(queryset):
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for session in queryset.iterator(chunk_size=2000):
        ended = session.ended_at
        duration = int(((ended or timezone.now()) - session.started_at).total_seconds())
        yield writer.writerow(
            _cell(value)
            for value in (
                session.pk,
                session.transaction_id,
                session.station.site.name if session.station.site else "",
                session.station.identity,
                session.evse.evse_id,
                session.id_token,
                session.token.label if session.token else "",
                session.status,
                session.started_at.isoformat(),
                ended.isoformat() if ended else "",
                duration,
                session.energy_wh,
                session.stop_reason,
            )
        )


class SessionExportView(SessionListView):
    """The filtered, scoped list as CSV (all pages), streamed."""

    paginate_by = None

    def get(self, request, *args, **kwargs):
        queryset = self.get_queryset()
        audit_record_for_request(
            request,
            action="session.export",
            object_type="charging.chargingsession",
            changes={"filters": request.GET.dict()},
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response = StreamingHttpResponse(csv_rows(queryset), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="sessions-{stamp}.csv"'
        return response


class SessionDetailView(PanelsMixin, ScopedDetailView):
    model = ChargingSession
    permission = "sessions.view"
    template_name = "charging/session_detail.html"
    panel_page = panels.SESSION

    def panel_site_id(self, obj) -> int | None:
        return obj.station.site_id

    def get_queryset(self):
        return super().get_queryset().select_related("station", "station__site", "evse", "token")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        session = self.object
        points = power_series(session_ids=[session.pk], since=session.started_at)
        context["power_series"] = {str(session.pk): points.get(session.pk, [])}
        return context


# --- Tokens (RFID cards, app accounts...): the whole tenant's, so the whole tenant's people ---


class TokenPermissionMixin:
    """Tokens belong to no site: only a person holding the permission on every site sees or
    changes them (as the API says: ``HoldsPermission``)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.actor.scope_for(self.permission).all_sites:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class TokenListView(TokenPermissionMixin, ScopedListView):
    model = IdToken
    permission = "tokens.view"
    filterset_class = IdTokenFilterSet
    template_name = "charging/token_list.html"
    filter_fields = ("q", "token_type", "is_active")
    filter_labels = {"token_type": _("Type"), "is_active": _("Active")}

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset if queryset.query.order_by else queryset.order_by("uid", "pk")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_manage"] = self.request.actor.scope_for("tokens.manage").all_sites
        return context


class TokenManageMixin(TokenPermissionMixin, PermissionRequiredMixin):
    permission = "tokens.manage"
    template_name = "charging/token_form.html"

    def managed_token(self, pk: int) -> IdToken:
        return get_object_or_404(
            IdToken.objects.restrict(self.request.actor, self.permission), pk=pk
        )

    def saved(self, form, save) -> IdToken | None:
        """Run the service; its validation errors go next to their fields."""
        try:
            return save(**form.service_fields())
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, error)
            return None

    def form_page(self, form, token=None, status=200):
        context = {"form": form, "token": token}
        return render(self.request, self.template_name, context, status=status)


class TokenCreateView(TokenManageMixin, View):
    def get(self, request):
        return self.form_page(IdTokenForm(initial={"is_active": True}))

    def post(self, request):
        form = IdTokenForm(request.POST)
        if form.is_valid() and self.saved(form, services.token_create) is not None:
            messages.success(request, _("The token was added."))
            return HttpResponseRedirect(reverse("charging:token_list"))
        return self.form_page(form, status=400)


class TokenEditView(TokenManageMixin, View):
    def get(self, request, pk: int):
        token = self.managed_token(pk)
        return self.form_page(IdTokenForm(instance=token), token)

    def post(self, request, pk: int):
        token = self.managed_token(pk)
        original = IdToken.objects.get(pk=token.pk)
        form = IdTokenForm(request.POST, instance=token)
        if form.is_valid():
            saved = self.saved(
                form, lambda **fields: services.token_update(token=original, **fields)
            )
            if saved is not None:
                messages.success(request, _("The token was saved."))
                return HttpResponseRedirect(reverse("charging:token_list"))
        return self.form_page(form, original, status=400)


class TokenDeleteView(TokenManageMixin, View):
    """POST: delete a token (its past sessions keep the uid they started with)."""

    def post(self, request, pk: int):
        services.token_delete(token=self.managed_token(pk))
        messages.success(request, _("The token was deleted."))
        return HttpResponseRedirect(reverse("charging:token_list"))
