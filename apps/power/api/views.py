from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.viewsets import ReadOnlyScopedViewSet, ScopedModelViewSet

from .. import selectors, services
from ..choices import LimitSource
from ..filtersets import (
    EvseAllocationFilterSet,
    LimitOverrideFilterSet,
    PowerAlertFilterSet,
    PowerNodeFilterSet,
)
from ..models import EvseAllocation, LimitOverride, PowerAlert, PowerNode
from .serializers import (
    EvseAllocationSerializer,
    LimitInputSerializer,
    LimitOverrideSerializer,
    LoadReportSerializer,
    NodeLoadSerializer,
    PowerAlertSerializer,
    PowerNodeCreateSerializer,
    PowerNodeSerializer,
    PowerNodeUpdateSerializer,
)


class PowerNodeViewSet(ScopedModelViewSet):
    """A site's electrical tree: supply, panels, circuits.  ``/load/`` is its live load;
    ``/limit/`` and ``/building-load/`` are for building-management systems."""

    queryset = PowerNode.objects.select_related("site", "parent")
    serializer_class = PowerNodeSerializer
    filterset_class = PowerNodeFilterSet
    view_permission = "power.view"
    manage_permission = "power.manage"
    action_permissions = {
        "load": "power.view",
        "limit": "power.manage",
        "building_load": "power.manage",
    }
    audit_name = "power_node"

    @classmethod
    def input_serializer_for(cls, action):
        if action == "create":
            return PowerNodeCreateSerializer
        if action in ("update", "partial_update"):
            return PowerNodeUpdateSerializer
        return None

    def create_service(self, data):
        return services.power_node_create(**data)

    def update_service(self, instance, data):
        return services.power_node_update(node=instance, **data)

    def delete_service(self, instance):
        services.power_node_delete(node=instance)

    @extend_schema(responses=NodeLoadSerializer)
    @action(detail=True, methods=["get"])
    def load(self, request, pk=None):
        """The node now: its limits, the building's load, what its EVSEs are allowed and what
        they draw, per line."""
        node = self.get_object()
        view = selectors.node_load(node=node)
        return Response(
            NodeLoadSerializer(
                {
                    "node": node.pk,
                    "limit_a": view.limit_a,
                    "limit_kw": view.limit_kw,
                    "building_load_w": view.load_w,
                    "allocated_a": list(view.allocated_a),
                    "drawn_a": list(view.drawn_a),
                }
            ).data
        )

    @extend_schema(request=LimitInputSerializer, responses={201: LimitOverrideSerializer})
    @action(detail=True, methods=["post"])
    def limit(self, request, pk=None):
        """Lower the node's limit (amps per line and/or kW) from ``starts_at`` (now) until
        ``ends_at`` (open-ended without it); the lowest active limit applies."""
        node = self.get_object()
        data = LimitInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        override = services.limit_override_create(
            node=node,
            source=LimitSource.API if request.auth else LimitSource.MANUAL,
            **data.validated_data,
        )
        self.audit("power_node.limit", node, changes=LimitOverrideSerializer(override).data)
        return Response(LimitOverrideSerializer(override).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=LoadReportSerializer, responses={204: None})
    @action(detail=True, methods=["post"], url_path="building-load")
    def building_load(self, request, pk=None):
        """Report what the building's other loads on this node draw now (a meter reading,
        trusted for five minutes)."""
        node = self.get_object()
        data = LoadReportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.node_load_report(node=node, **data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LimitOverrideViewSet(ReadOnlyScopedViewSet):
    """Temporary limits on nodes; ``/end/`` ends one now."""

    queryset = LimitOverride.objects.select_related("node")
    serializer_class = LimitOverrideSerializer
    filterset_class = LimitOverrideFilterSet
    view_permission = "power.view"
    action_permissions = {"end": "power.manage"}
    audit_name = "power_limit"

    @extend_schema(request=None, responses=LimitOverrideSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        override = services.limit_override_end(override=self.get_object())
        self.audit("end", override)
        return Response(LimitOverrideSerializer(override).data)


class EvseAllocationViewSet(ReadOnlyScopedViewSet):
    """The live allocation of each EVSE: its limit, why, and whether its station applied it."""

    queryset = EvseAllocation.objects.select_related("evse")
    serializer_class = EvseAllocationSerializer
    filterset_class = EvseAllocationFilterSet
    view_permission = "power.view"


class PowerAlertViewSet(ReadOnlyScopedViewSet):
    """Stations that did not take their charging limit (counted at their maximum meanwhile)."""

    queryset = PowerAlert.objects.all()
    serializer_class = PowerAlertSerializer
    filterset_class = PowerAlertFilterSet
    view_permission = "power.view"
