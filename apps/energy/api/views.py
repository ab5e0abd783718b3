from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.throttles import CallerRateThrottle
from apps.api.viewsets import ReadOnlyScopedViewSet, ScopedModelViewSet

from .. import limits, queue, services
from ..filtersets import BmsNodeFilterSet, DemandResponseEventFilterSet, VenFilterSet
from ..models import DemandResponseEvent, Ven
from .serializers import (
    BmsHistoryQuerySerializer,
    BmsHistorySerializer,
    BmsLimitInputSerializer,
    BmsLimitSerializer,
    BmsLiveSerializer,
    BmsLoadInputSerializer,
    BmsNodeSerializer,
    BmsScheduleInputSerializer,
    DemandResponseEventSerializer,
    OptInputSerializer,
    VenCreateSerializer,
    VenSerializer,
    VenUpdateSerializer,
)

BMS_RATE = "120/min"  # per key, on top of the API's own limits (settings.ENERGY_BMS_RATE)


class BmsRateThrottle(CallerRateThrottle):
    """Building-management systems poll: their own allowance, per key."""

    scope = "bms"

    def get_rate(self) -> str | None:
        return getattr(settings, "ENERGY_BMS_RATE", BMS_RATE)


class VenViewSet(ScopedModelViewSet):
    """OpenADR 2.0b VENs, one per site; ``/poll/`` polls the VTN now."""

    queryset = Ven.objects.select_related("site", "node").prefetch_related("members")
    serializer_class = VenSerializer
    filterset_class = VenFilterSet
    view_permission = "energy.view"
    manage_permission = "energy.manage"
    action_permissions = {"poll": "energy.manage"}
    audit_name = "energy_ven"

    @classmethod
    def input_serializer_for(cls, action):
        if action == "create":
            return VenCreateSerializer
        if action in ("update", "partial_update"):
            return VenUpdateSerializer
        return None

    def create_service(self, data):
        return services.ven_create(**data)

    def audit(self, verb, obj, **fields):
        # The client's private key never reaches the audit log: only that it was set.
        changes = fields.get("changes")
        if changes and "client_key_pem" in changes:
            fields["changes"] = {**changes, "client_key_pem": "(set)"}
        return super().audit(verb, obj, **fields)

    def update_service(self, instance, data):
        return services.ven_update(ven=instance, **data)

    def delete_service(self, instance):
        services.ven_delete(ven=instance)

    @extend_schema(request=None, responses={202: None})
    @action(detail=True, methods=["post"])
    def poll(self, request, pk=None):
        ven = self.get_object()
        queue.enqueue_poll(ven.pk)
        self.audit("poll", ven)
        return Response(status=status.HTTP_202_ACCEPTED)


class DemandResponseEventViewSet(ReadOnlyScopedViewSet):
    """Demand-response events as the VTNs sent them, their limits and our answer;
    ``/opt/`` takes part in one or opts out (told to the VTN at once)."""

    queryset = DemandResponseEvent.objects.select_related("ven").prefetch_related(
        "node_limits__node"
    )
    serializer_class = DemandResponseEventSerializer
    filterset_class = DemandResponseEventFilterSet
    view_permission = "energy.view"
    action_permissions = {"opt": "energy.manage"}
    audit_name = "energy_event"

    @extend_schema(request=OptInputSerializer, responses=DemandResponseEventSerializer)
    @action(detail=True, methods=["post"])
    def opt(self, request, pk=None):
        event = self.get_object()
        data = OptInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        before = event.opt
        event = services.event_opt_set(event=event, opt=data.validated_data["opt"])
        self.audit("opt", event, changes={"opt": [before, event.opt]})
        return Response(DemandResponseEventSerializer(event).data)


class BmsNodeViewSet(ReadOnlyScopedViewSet):
    """The building-management API (``energy.bms``): each node's live load per line and the
    limits in force and why (``/live/``), its 15-minute history (``/history/``), temporary or
    scheduled limits (``/limit/``, ``/end-limits/``) and the building's own load
    (``/building-load/``)."""

    queryset = limits.PowerNode.objects.select_related("site")
    serializer_class = BmsNodeSerializer
    filterset_class = BmsNodeFilterSet
    view_permission = "energy.bms"
    action_permissions = {
        "live": "energy.bms",
        "history": "energy.bms",
        "limit": "energy.bms",
        "end_limits": "energy.bms",
        "building_load": "energy.bms",
        "schedule": "energy.bms",
    }
    audit_name = "energy_bms"

    def get_throttles(self):
        return [*super().get_throttles(), BmsRateThrottle()]

    @extend_schema(responses=BmsLiveSerializer)
    @action(detail=True, methods=["get"])
    def live(self, request, pk=None):
        node = self.get_object()
        return Response(BmsLiveSerializer(limits.node_live(node, timezone.now())).data)

    @extend_schema(parameters=[BmsHistoryQuerySerializer], responses=BmsHistorySerializer)
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        node = self.get_object()
        query = BmsHistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = [
            {
                "start": row.start,
                "drawn_w_avg": row.drawn_w_sum // row.samples if row.samples else 0,
                "drawn_w_max": row.drawn_w_max,
                "building_w_avg": row.base_w_sum // row.samples if row.samples else 0,
                "limit_w": row.limit_w,
                "sessions_max": row.sessions_max,
            }
            for row in limits.node_history(node, **query.validated_data)
        ]
        return Response(BmsHistorySerializer({"node": node.pk, "intervals": rows}).data)

    @extend_schema(request=BmsLimitInputSerializer, responses={201: BmsLimitSerializer})
    @action(detail=True, methods=["post"])
    def limit(self, request, pk=None):
        node = self.get_object()
        data = BmsLimitInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        override = services.bms_limit_set(node=node, **data.validated_data)
        self.audit("limit", node, changes=BmsLimitSerializer(override).data)
        return Response(BmsLimitSerializer(override).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=BmsScheduleInputSerializer, responses={200: BmsLimitSerializer(many=True)}
    )
    @action(detail=True, methods=["post"])
    def schedule(self, request, pk=None):
        """Replace the BMS's limits on this node that have not ended by a schedule (running
        ones end now, future ones go); an empty list clears them."""
        node = self.get_object()
        data = BmsScheduleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        made = services.bms_schedule_set(node=node, items=data.validated_data["limits"])
        self.audit("schedule", node, changes={"limits": len(made)})
        return Response(BmsLimitSerializer(made, many=True).data)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"], url_path="end-limits")
    def end_limits(self, request, pk=None):
        """End every limit the BMS API set on this node (now, or before it starts)."""
        node = self.get_object()
        ended = services.bms_limits_end(node=node)
        self.audit("end_limits", node, changes={"ended": ended})
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=BmsLoadInputSerializer, responses={204: None})
    @action(detail=True, methods=["post"], url_path="building-load")
    def building_load(self, request, pk=None):
        node = self.get_object()
        data = BmsLoadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.bms_load_push(node=node, load_w=data.validated_data["load_w"])
        self.audit("building_load", node, changes=data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)
