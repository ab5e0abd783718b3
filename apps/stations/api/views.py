from __future__ import annotations

from django.db.models import Count, Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.viewsets import CreateMixin, ReadOnlyScopedViewSet, ScopedModelViewSet, UpdateMixin

from .. import services
from ..filtersets import (
    ConnectorFilterSet,
    EvseFilterSet,
    SiteFilterSet,
    StationFilterSet,
    StatusChangeFilterSet,
)
from ..models import Connector, Evse, Site, Station, StatusChange
from .serializers import (
    ConnectorSerializer,
    ConnectorUpdateSerializer,
    EvseCreateSerializer,
    EvseSerializer,
    EvseUpdateSerializer,
    SiteInputSerializer,
    SiteSerializer,
    StationCreateSerializer,
    StationSerializer,
    StationUpdateSerializer,
    StatusChangeSerializer,
)

# Prefetched into plain lists (``to_attr``): Django then skips building a filtered queryset per
# station and per port, which cost more than the queries themselves (see bench/api_*.py).
CONNECTORS = Prefetch(
    "connectors", queryset=Connector.objects.order_by("connector_id"), to_attr="connector_list"
)
PORTS = Prefetch(
    "evses",
    queryset=Evse.objects.order_by("evse_id").prefetch_related(CONNECTORS),
    to_attr="evse_list",
)


class SiteViewSet(ScopedModelViewSet):
    """Sites: the places where stations are, and the unit that delegations are scoped to."""

    # (a GROUP BY drops Meta.ordering: order explicitly for stable pages)
    queryset = Site.objects.annotate(station_count=Count("stations")).order_by("name", "pk")
    serializer_class = SiteSerializer
    input_serializer_class = SiteInputSerializer
    filterset_class = SiteFilterSet
    view_permission = "sites.view"
    manage_permission = "sites.manage"

    def create_service(self, data):
        return services.site_create(**data)

    def update_service(self, instance, data):
        return services.site_update(site=instance, **data)

    def delete_service(self, instance):
        services.site_delete(site=instance)

    action_permissions = {"archive": "sites.manage", "restore": "sites.manage"}

    def filter_queryset(self, queryset):
        return without_archived(self, super().filter_queryset(queryset), "archived", "archived_at")

    @extend_schema(request=None, responses=SiteSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        """Archive a site whose stations are all retired or moved: it leaves the lists
        (``?archived=true`` lists archived sites) and keeps its history."""
        site = services.site_archive(site=self.get_object())
        self.audit("archive", site)
        return Response(self.get_serializer(self.refetch(site)).data)

    @extend_schema(request=None, responses=SiteSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        """Bring an archived site back."""
        site = services.site_restore(site=self.get_object())
        self.audit("restore", site)
        return Response(self.get_serializer(self.refetch(site)).data)


class StationViewSet(ScopedModelViewSet):
    """Charging stations with their ports (EVSEs) and connectors.  Remote commands are under
    ``/stations/{id}/<command>/``."""

    http_method_names = ["get", "post", "patch", "head", "options"]
    queryset = Station.objects.select_related("site").prefetch_related(PORTS)
    serializer_class = StationSerializer
    filterset_class = StationFilterSet
    view_permission = "stations.view"
    manage_permission = "stations.configure"

    @classmethod
    def input_serializer_for(cls, action):
        if action == "create":
            return StationCreateSerializer
        if action in ("update", "partial_update"):
            return StationUpdateSerializer
        return None

    def create_service(self, data):
        return services.station_register(**{"password": None, **data})

    def update_service(self, instance, data):
        return services.station_update(station=instance, **data)

    action_permissions = {"retire": "stations.configure"}

    def filter_queryset(self, queryset):
        return without_archived(self, super().filter_queryset(queryset), "retired", "retired_at")

    @extend_schema(request=None, responses=StationSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        """Retire a station for good: it cannot connect again and leaves the lists
        (``?retired=true`` lists retired stations); its sessions and history stay."""
        station = services.station_retire(station=self.get_object())
        self.audit("retire", station)
        return Response(self.get_serializer(self.refetch(station)).data)


class EvseViewSet(CreateMixin, UpdateMixin, ReadOnlyScopedViewSet):
    """Ports (OCPP 1.6 connectors, 2.0.1 EVSEs) with their live state; a port added to a
    station (POST) and its ratings changed (PATCH) under ``stations.configure``."""

    http_method_names = ["get", "post", "patch", "head", "options"]
    queryset = Evse.objects.select_related("station").prefetch_related(CONNECTORS)
    serializer_class = EvseSerializer
    filterset_class = EvseFilterSet
    view_permission = "stations.view"
    manage_permission = "stations.configure"

    @classmethod
    def input_serializer_for(cls, action):
        if action == "create":
            return EvseCreateSerializer
        if action in ("update", "partial_update"):
            return EvseUpdateSerializer
        return None

    def create_service(self, data):
        return services.evse_add(**data)

    def update_service(self, instance, data):
        return services.evse_update(evse=instance, **data)


class ConnectorViewSet(UpdateMixin, ReadOnlyScopedViewSet):
    """Physical connectors (plugs) of each port; plug type and power changed (PATCH) under
    ``stations.configure``."""

    http_method_names = ["get", "patch", "head", "options"]
    queryset = Connector.objects.all()
    serializer_class = ConnectorSerializer
    input_serializer_class = ConnectorUpdateSerializer
    filterset_class = ConnectorFilterSet
    view_permission = "stations.view"
    manage_permission = "stations.configure"

    def update_service(self, instance, data):
        return services.connector_update(connector=instance, **data)


def without_archived(view, queryset, parameter: str, field: str):
    """Lists leave out archived sites and retired stations unless ``?<parameter>=`` asks
    (``true``: only those, ``false``: only the others); a single object is always found."""
    if view.action == "list" and parameter not in view.request.query_params:
        return queryset.filter(**{f"{field}__isnull": True})
    return queryset


class StatusChangeViewSet(ReadOnlyScopedViewSet):
    """History of port statuses and of stations going online and offline."""

    queryset = StatusChange.objects.select_related("station", "evse")
    serializer_class = StatusChangeSerializer
    filterset_class = StatusChangeFilterSet
    view_permission = "stations.view"
