from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action

from apps.api.viewsets import ReadOnlyScopedViewSet, ScopedModelViewSet

from .. import services
from ..filtersets import ChargingSessionFilterSet, IdTokenFilterSet, MeterValueFilterSet
from ..models import ChargingSession, IdToken, MeterValue
from .serializers import (
    ChargingSessionSerializer,
    IdTokenInputSerializer,
    IdTokenSerializer,
    MeterValueSerializer,
)


class IdTokenViewSet(ScopedModelViewSet):
    """RFID cards, app accounts, eMAIDs and vehicle ids that may start charging."""

    queryset = IdToken.objects.all()
    serializer_class = IdTokenSerializer
    input_serializer_class = IdTokenInputSerializer
    filterset_class = IdTokenFilterSet
    view_permission = "tokens.view"
    manage_permission = "tokens.manage"
    audit_name = "token"

    def create_service(self, data):
        return services.token_create(**data)

    def update_service(self, instance, data):
        return services.token_update(token=instance, **data)

    def delete_service(self, instance):
        services.token_delete(token=instance)


class ChargingSessionViewSet(ReadOnlyScopedViewSet):
    """Charging sessions (transactions), with energy from the meter registers."""

    queryset = ChargingSession.objects.select_related("station", "evse")
    serializer_class = ChargingSessionSerializer
    filterset_class = ChargingSessionFilterSet
    view_permission = "sessions.view"
    action_permissions = {"meter_values": "sessions.view"}

    @extend_schema(responses=MeterValueSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], url_path="meter-values")
    def meter_values(self, request, pk=None):
        """The session's meter values, oldest first (paginated)."""
        session = self.get_object()
        values = MeterValue.objects.filter(session=session).order_by("timestamp", "id")
        page = self.paginate_queryset(values)
        return self.get_paginated_response(MeterValueSerializer(page, many=True).data)


class MeterValueViewSet(ReadOnlyScopedViewSet):
    """Sampled meter values (energy, power, current, voltage, state of charge...)."""

    queryset = MeterValue.objects.all()
    serializer_class = MeterValueSerializer
    filterset_class = MeterValueFilterSet
    view_permission = "sessions.view"
