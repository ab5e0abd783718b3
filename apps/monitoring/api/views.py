"""Alerts (station offline, port faulted): read them, acknowledge and resolve them.

Reads need ``stations.view`` (as the portal's alert list); acknowledging and resolving need
``alerts.manage``.  Scoping is the base viewset's (``restrict``): a caller sees the alerts of
the sites where they hold the permission.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.exceptions import Conflict
from apps.api.viewsets import ReadOnlyScopedViewSet

from .. import services
from ..filtersets import AlertFilterSet
from ..models import Alert
from .serializers import AlertActionSerializer, AlertSerializer

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
