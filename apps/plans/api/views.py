from django.db import connection
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from apps.api.viewsets import CreateMixin, ScopedViewSet
from apps.stations.models import Station

from .. import selectors, services
from ..filtersets import PlanOrderFilterSet, PortActivationFilterSet
from ..models import PlanOrder, PortActivation
from .serializers import (
    PlanOrderSerializer,
    PortActivationInputSerializer,
    PortActivationSerializer,
    PortReleaseInputSerializer,
)


class PlanOrderViewSet(mixins.ListModelMixin, ScopedViewSet):
    """The tenant's cloud plan orders (recorded by the platform operator) with seats used."""

    queryset = selectors.plan_orders_with_seats(PlanOrder.objects.all())
    serializer_class = PlanOrderSerializer
    filterset_class = PlanOrderFilterSet
    view_permission = "plans.view"

    def get_queryset(self):
        # the annotated queryset is rebuilt per request (the manager reads the tenant)
        return selectors.plan_orders_with_seats().restrict(self.actor, self.required_permission())


class PortActivationViewSet(mixins.ListModelMixin, CreateMixin, ScopedViewSet):
    """Ports holding a plan seat: activate a port (POST), release a seat."""

    queryset = PortActivation.objects.select_related("order")
    serializer_class = PortActivationSerializer
    input_serializer_class = PortActivationInputSerializer
    filterset_class = PortActivationFilterSet
    view_permission = "plans.view"
    manage_permission = "plans.manage"
    action_permissions = {"release": "plans.manage"}
    audit_name = "plan_seat"

    def get_queryset(self):
        return PortActivation.objects.select_related("order").restrict(
            self.actor, self.required_permission()
        )

    def create_service(self, data):
        station = (
            Station.objects.restrict(self.actor, "stations.view").filter(pk=data["station"]).first()
        )
        if station is None:
            raise NotFound()
        order = None
        if data.get("order"):
            order = PlanOrder.objects.filter(pk=data["order"]).first()
            if order is None:
                raise NotFound()
        return services.port_activate(
            tenant=connection.tenant, station=station, evse_id=data["evse_id"], order=order
        )

    @extend_schema(request=PortReleaseInputSerializer, responses=PortActivationSerializer)
    @action(detail=False, methods=["post"])
    def release(self, request):
        """Release a port's seat (the port then refuses new sessions)."""
        serializer = PortReleaseInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        activation = self.get_queryset().filter(pk=serializer.validated_data["activation"]).first()
        if activation is None:
            raise NotFound()
        activation = services.port_release(activation=activation)
        self.audit("release", activation)
        return Response(PortActivationSerializer(activation).data)
