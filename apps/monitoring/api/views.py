"""Alerts (station offline, port faulted): read them, acknowledge and resolve them.

Reads need ``stations.view`` (as the portal's alert list); acknowledging and resolving need
``alerts.manage``.  Scoping is the base viewset's (``restrict``): a caller sees the alerts of
the sites where they hold the permission.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Q
from django.http import QueryDict
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.exceptions import Conflict
from apps.api.permissions import HoldsPermission, actor_of
from apps.api.viewsets import ReadOnlyScopedViewSet
from apps.stations.filtersets import StationFilterSet
from apps.stations.models import Station

from .. import services
from ..filtersets import AlertFilterSet
from ..models import Alert, BulkCommand, BulkCommandItem
from ..services.bulk import bulk_command_start
from .serializers import (
    AlertActionSerializer,
    AlertSerializer,
    BulkCommandInputSerializer,
    BulkCommandItemSerializer,
    BulkCommandSerializer,
)

MANAGE = "alerts.manage"


class AlertViewSet(ReadOnlyScopedViewSet):
    """Alerts about stations, open and closed, newest first."""

    queryset = Alert.objects.select_related("station", "evse")
    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    view_permission = "stations.view"
    action_permissions = {"acknowledge": MANAGE, "resolve": MANAGE}

    def _act(self, verb: str, service) -> Response:
        alert = self.get_object()
        data = AlertActionSerializer(data=self.request.data)
        data.is_valid(raise_exception=True)
        note = data.validated_data["note"]
        try:
            alert = service(alert=alert, actor=self.actor, note=note)
        except services.AlertClosed as error:
            raise Conflict(str(error)) from None
        self.audit(verb, alert, changes={"note": note} if note else None)
        return Response(AlertSerializer(self.refetch(alert)).data)

    @extend_schema(request=AlertActionSerializer, responses=AlertSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """Say someone is on it.  The first acknowledgement stands; a closed alert: 409."""
        return self._act("acknowledge", services.alert_acknowledge)

    @extend_schema(request=AlertActionSerializer, responses=AlertSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """Close the alert now (sent as ``alert.cleared``); a closed alert: 409.  A station
        still offline or faulted is raised again by the next sweep."""
        return self._act("resolve", services.alert_resolve)


class HoldsPermissionOnSomeSite(HoldsPermission):
    """A bulk command spans sites and is seen through its stations: holding the permission on
    one site is enough (the rows are restricted to those sites), unlike rows of no site."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return not actor_of(request).scope_for(view.required_permission()).empty


class BulkCommandViewSet(ReadOnlyScopedViewSet):
    """Bulk commands: one command (reset, availability, a configuration change, a firmware
    update) to many stations, sent station by station by a worker, as in the portal's bulk
    actions.  A job is seen through its stations: the caller sees the jobs with a station on a
    site where they hold ``stations.view``, and only those stations' outcomes and counts."""

    queryset = BulkCommand.objects.select_related("created_by")
    serializer_class = BulkCommandSerializer
    permission_classes = [HoldsPermissionOnSomeSite]
    view_permission = "stations.view"
    action_permissions = {"create": "stations.command", "items": "stations.view"}
    audit_name = "bulk_command"

    def visible_items(self):
        return BulkCommandItem.objects.restrict(self.actor, "stations.view")

    def get_queryset(self):
        # A job spans sites: it is restricted through its items, not by a site of its own.
        jobs = self.visible_items().values("job_id")
        return BulkCommand.objects.select_related("created_by").filter(pk__in=jobs)

    def describe(self, jobs) -> list:
        """Each job with the sites and counts of its stations the caller may see."""
        ids = [job.pk for job in jobs]
        counts = {
            row["job_id"]: row
            for row in self.visible_items()
            .filter(job_id__in=ids)
            .values("job_id")
            .annotate(
                total=Count("pk"),
                ok=Count("pk", filter=Q(status=BulkCommandItem.Status.OK)),
                failed=Count("pk", filter=Q(status=BulkCommandItem.Status.FAILED)),
            )
        }
        sites: dict[int, set] = {}
        for job_id, site_id in (
            self.visible_items()
            .filter(job_id__in=ids)
            .values_list("job_id", "station__site_id")
            .distinct()
        ):
            if site_id is not None:
                sites.setdefault(job_id, set()).add(site_id)
        for job in jobs:
            row = counts.get(job.pk, {"total": 0, "ok": 0, "failed": 0})
            job.progress = {
                "total": row["total"],
                "ok": row["ok"],
                "failed": row["failed"],
                "done": row["ok"] + row["failed"],
            }
            job.sites = sorted(sites.get(job.pk, ()))
        return jobs

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(self.describe(page), many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.describe([self.get_object()])[0]).data)

    @extend_schema(request=BulkCommandInputSerializer, responses={201: BulkCommandSerializer})
    def create(self, request, *args, **kwargs):
        """Start a job: the stations (ids, or the station list's filters) that the caller may
        send the command to (``stations.configure`` for a configuration change or a
        firmware update); the others are left out.  Answers at once (201); follow the job
        here or on the live feed."""
        data = BulkCommandInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        visible = Station.objects.restrict(self.actor, "stations.view")
        filter_query = ""
        if values.get("stations"):
            stations = visible.filter(pk__in=values["stations"])
        else:
            query = QueryDict(mutable=True)
            query.update(values["filter"])
            filterset = StationFilterSet(query, queryset=visible, request=request)
            unknown = sorted(set(values["filter"]) - set(filterset.filters) - {"ordering"})
            if unknown:  # a misspelt filter would otherwise select every station
                raise serializers.ValidationError(
                    {"filter": [f"Unknown filters: {', '.join(unknown)}."]}
                )
            if not filterset.is_valid():
                raise serializers.ValidationError({"filter": filterset.errors})
            stations = filterset.qs
            filter_query = query.urlencode()
        try:
            job = bulk_command_start(
                actor=self.actor,
                user=request.user if request.user.is_authenticated else None,
                command=values["command"],
                arguments=values["arguments"] if isinstance(values["arguments"], dict) else {},
                stations=stations,
                filter_query=filter_query,
            )
        except PermissionDenied:
            raise serializers.ValidationError(
                {"stations": ["None of these stations may receive this command from you."]}
            ) from None
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None
        self.audit("create", job, changes={"command": job.command, "arguments": job.arguments})
        job = BulkCommand.objects.select_related("created_by").get(pk=job.pk)
        return Response(
            self.get_serializer(self.describe([job])[0]).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(responses=BulkCommandItemSerializer(many=True))
    @action(detail=True, methods=["get"])
    def items(self, request, pk=None):
        """Each station's outcome (those the caller may see), by station identity."""
        job = self.get_object()
        items = (
            self.visible_items()
            .filter(job=job)
            .select_related("station")
            .order_by("station__identity", "pk")
        )
        page = self.paginate_queryset(items)
        return self.get_paginated_response(BulkCommandItemSerializer(page, many=True).data)
