"""Portal pages of charging sessions: the list (filters shared with the API), one session with
its power curve, and the CSV export of exactly what the list shows."""

from __future__ import annotations

import csv

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core import panels
from apps.core.views import PanelsMixin, ScopedDetailView, ScopedListView

from .filtersets import ChargingSessionFilterSet
from .models import ChargingSession
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
        from apps.audit.services import audit_record_for_request

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
