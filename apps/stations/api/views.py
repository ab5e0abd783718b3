from __future__ import annotations

from django.db.models import Count, Prefetch

from apps.api.viewsets import ReadOnlyScopedViewSet, ScopedModelViewSet

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
    EvseSerializer,
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


class EvseViewSet(ReadOnlyScopedViewSet):
    """Ports (OCPP 1.6 connectors, 2.0.1 EVSEs) with their live state."""

    queryset = Evse.objects.select_related("station").prefetch_related(CONNECTORS)
    serializer_class = EvseSerializer
    filterset_class = EvseFilterSet
    view_permission = "stations.view"


class ConnectorViewSet(ReadOnlyScopedViewSet):
    """Physical connectors (plugs) of each port."""

    queryset = Connector.objects.all()
    serializer_class = ConnectorSerializer
    filterset_class = ConnectorFilterSet
    view_permission = "stations.view"


class StatusChangeViewSet(ReadOnlyScopedViewSet):
    """History of port statuses and of stations going online and offline."""

    queryset = StatusChange.objects.select_related("station", "evse")
    serializer_class = StatusChangeSerializer
    filterset_class = StatusChangeFilterSet
    view_permission = "stations.view"
