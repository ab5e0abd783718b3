"""Reports over the API: a period's measures per site, station or port against the period
before, and a site's 15-minute load profile.  Rows are the objects in the caller's scope (the
one scoping path); their measures come from the rollups."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from zoneinfo import ZoneInfo

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from apps.api.viewsets import ReadOnlyScopedViewSet
from apps.stations.models import Evse, Site, Station

from .. import selectors
from ..choices import GroupBy
from ..forms import capacity_inputs
from ..summary import summary_pdf
from .serializers import (
    BreakdownsSerializer,
    CapacityPlanSerializer,
    CapacityQuerySerializer,
    LoadProfileSerializer,
    PeriodSerializer,
    PortReportSerializer,
    SiteReportSerializer,
    StationReportSerializer,
    SummaryQuerySerializer,
)

PERMISSION = selectors.PERMISSION


class PdfRenderer(BaseRenderer):
    """Lets a client ask for ``Accept: application/pdf``; the summary itself is sent as it is
    rendered (errors stay JSON: the JSON renderer comes first)."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else JSONRenderer().render(data)


class _ReportViewSet(ReadOnlyScopedViewSet):
    view_permission = PERMISSION
    group_by: str = ""

    def period(self) -> dict:
        serializer = PeriodSerializer(data=self.request.query_params)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def rows_for(self, objects: list) -> list[dict]:
        period = self.period()
        keys = [obj.pk for obj in objects]
        report = selectors.report_build(
            actor=self.actor, group_by=self.group_by, **period, **{self.filter_name: keys}
        )
        measured = {row.key: row for row in report.rows}
        empty = selectors.Measures()
        out = []
        for obj in objects:
            row = measured.get(obj.pk)
            out.append(
                {
                    **self.identity(obj),
                    "id": obj.pk,
                    "label": str(obj),
                    **period,
                    "measures": (row.measures if row else empty).as_dict(),
                    "previous": (row.previous if row else empty).as_dict(),
                }
            )
        return out

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        objects = list(page if page is not None else queryset)
        data = self.get_serializer(self.rows_for(objects), many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.rows_for([self.get_object()])[0]).data)


@extend_schema(parameters=[PeriodSerializer])
class SiteReportViewSet(_ReportViewSet):
    """Per site: energy, peak power, time in each state, uptime, use, sessions, revenue."""

    queryset = Site.objects.all()
    serializer_class = SiteReportSerializer
    group_by = GroupBy.SITE
    filter_name = "site_ids"
    action_permissions = {
        "load_profile": PERMISSION,
        "capacity": PERMISSION,
        "breakdowns": PERMISSION,
        "summary": PERMISSION,
    }

    def identity(self, obj) -> dict:
        return {"site": obj.pk}

    @extend_schema(parameters=[PeriodSerializer], responses=LoadProfileSerializer)
    @action(detail=True, methods=["get"], url_path="load-profile")
    def load_profile(self, request, pk=None):
        """The site's 15-minute energy and peak power over the period (its local days)."""
        site = self.get_object()
        period = self.period()
        zone = ZoneInfo(site.timezone)
        start = dt.datetime.combine(period["start"], dt.time(), zone)
        end = dt.datetime.combine(period["end"], dt.time(), zone)
        quarters = selectors.load_profile(
            actor=self.actor, start=start, end=end, site_ids=[site.pk]
        )
        return Response(
            LoadProfileSerializer(
                {
                    "site": site.pk,
                    "start": start,
                    "end": end,
                    "quarters": [
                        {
                            "bucket": at,
                            "energy_wh": wh,
                            "peak_power_w": peak,
                            "average_power_w": wh * 4,
                        }
                        for at, wh, peak in quarters
                    ],
                }
            ).data
        )

    @extend_schema(parameters=[CapacityQuerySerializer], responses=CapacityPlanSerializer)
    @action(detail=True, methods=["get"], url_path="capacity")
    def capacity(self, request, pk=None):
        """The capacity planner: how many more ports of a given power the site's panel takes
        with power management, simulated on its 15-minute history (docs/reports.md)."""
        site = self.get_object()
        query = CapacityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        plan = selectors.site_capacity_plan(
            actor=self.actor,
            site=site,
            start=data["start"],
            end=data["end"],
            inputs=capacity_inputs(data),
        )
        body = {
            "site": site.pk,
            "start": data["start"],
            "end": data["end"],
            "quarters": plan.quarters,
            "ports_that_fit": plan.ports_that_fit,
            "needs_upgrade": plan.needs_upgrade,
            "assumptions": {**asdict(plan.assumptions), "room_w": plan.assumptions.room_w},
            "wanted": asdict(plan.wanted) if plan.wanted else None,
            "options": [asdict(option) for option in plan.options],
            "profile": [asdict(point) for point in plan.profile],
        }
        return Response(CapacityPlanSerializer(body).data)

    @extend_schema(parameters=[PeriodSerializer], responses=BreakdownsSerializer)
    @action(detail=True, methods=["get"], url_path="breakdowns")
    def breakdowns(self, request, pk=None):
        """The site's ended sessions that started in the period (its local days) by duration
        band, idle-time band, driver group and, when a fleet app answers, vehicle."""
        site = self.get_object()
        period = self.period()
        result = selectors.breakdowns_build(actor=self.actor, site_ids=[site.pk], **period)

        def rows(found):
            return None if found is None else [_breakdown_row(row) for row in found]

        body = {
            "site": site.pk,
            **period,
            "by_duration": rows(result.by_duration),
            "by_idle": rows(result.by_idle),
            "by_group": rows(result.by_group),
            "by_vehicle": rows(result.by_vehicle),
        }
        return Response(BreakdownsSerializer(body).data)

    @extend_schema(
        parameters=[SummaryQuerySerializer],
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The printable summary (PDF)."
            )
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="summary",
        renderer_classes=[JSONRenderer, PdfRenderer],
    )
    def summary(self, request, pk=None):
        """The site's printable PDF summary of the period, as the portal's (/reports/summary.pdf):
        headline figures against the previous period, energy per day, the site's stations or
        ports, the session breakdowns and the methods, in the language the API answers in
        (the language cookie, else the tenant's)."""
        site = self.get_object()
        query = SummaryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        content = summary_pdf(
            actor=self.actor,
            start=data["start"],
            end=data["end"],
            group_by=data["rows"],
            site=site,
            tenant_name=getattr(request.tenant, "name", ""),
        )
        response = HttpResponse(content, content_type="application/pdf")
        name = f"report-site-{site.pk}-{data['start']}-{data['end']}.pdf"
        response["Content-Disposition"] = f'inline; filename="{name}"'
        return response


def _breakdown_row(row: selectors.BreakdownRow) -> dict:
    return {
        "key": None if row.key is None else str(row.key),
        "label": row.label,
        "sessions": row.sessions,
        "energy_wh": row.energy_wh,
        "energy_per_session_wh": row.energy_per_session_wh,
        "average_minutes": row.average_minutes,
        "average_idle_minutes": row.average_idle_minutes,
    }


@extend_schema(parameters=[PeriodSerializer])
class StationReportViewSet(_ReportViewSet):
    """Per station: the same measures as per site, for the stations in the caller's scope."""

    queryset = Station.objects.all()
    serializer_class = StationReportSerializer
    group_by = GroupBy.STATION
    filter_name = "station_ids"

    def identity(self, obj) -> dict:
        return {"station": obj.pk, "site": obj.site_id}


@extend_schema(parameters=[PeriodSerializer])
class PortReportViewSet(_ReportViewSet):
    """Per port (EVSE): the same measures as per site, for the ports in the caller's scope."""

    queryset = Evse.objects.select_related("station")
    serializer_class = PortReportSerializer
    group_by = GroupBy.PORT
    filter_name = "evse_ids"

    def identity(self, obj) -> dict:
        return {"evse": obj.pk, "station": obj.station_id}
