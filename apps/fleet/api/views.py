from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from apps.api.viewsets import ReadOnlyScopedViewSet, ScopedModelViewSet
from apps.stations.models import Site

from .. import exports, imports, selectors, services
from ..filtersets import (
    FleetCardFilterSet,
    FleetFilterSet,
    TelemetryFilterSet,
    VehicleFilterSet,
    VehicleSessionFilterSet,
)
from ..models import Fleet, FleetCard, TelemetryReading, Vehicle, VehicleSession
from .serializers import (
    ExportQuerySerializer,
    FleetCardInputSerializer,
    FleetCardSerializer,
    FleetCardUpdateSerializer,
    FleetInputSerializer,
    FleetSecretSerializer,
    FleetSerializer,
    ImportReportSerializer,
    ImportSerializer,
    TableQuerySerializer,
    TelemetryInputSerializer,
    TelemetrySerializer,
    UsageSerializer,
    UsageSummarySerializer,
    VehicleInputSerializer,
    VehicleSerializer,
)


def _mapped(service, **kwargs):
    try:
        return service(**kwargs)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            raise serializers.ValidationError(error.message_dict) from error
        raise serializers.ValidationError(error.messages) from error


def _file(content: bytes, file_format: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=exports.CONTENT_TYPES[file_format])
    response["Content-Disposition"] = f'attachment; filename="{name}.{file_format}"'
    return response


FILE_PARAM = OpenApiParameter("file", OpenApiTypes.STR, enum=["csv", "xlsx"])


class FleetScopedMixin:
    """The base viewset restricts by site; a fleet manager then sees only their fleets."""

    def get_queryset(self):
        return selectors.scope_queryset(super().get_queryset(), self.actor)


class ImportMixin:
    import_function = None

    def run_import(self, request, **kwargs):
        data = ImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        fleets = list(selectors.fleets_for(self.actor, "fleet.manage"))
        try:
            report = type(self).import_function(
                content=upload.read(),
                filename=upload.name,
                fleets=fleets,
                keep_good=data.validated_data["keep_good"],
                dry_run=data.validated_data["dry_run"],
                **kwargs,
            )
        except imports.ImportFileError as error:
            raise serializers.ValidationError({"file": [str(error)]}) from error
        if report.imported:
            self.audit("import", None, changes={"file": upload.name, "rows": report.rows})
        return Response(ImportReportSerializer(report).data)


class FleetViewSet(FleetScopedMixin, ScopedModelViewSet):
    """Fleets: a home depot site (which scopes them) and their managers.  A person without
    ``fleet.all`` sees only the fleets that name them as managers.  ``secret/`` rotates and
    answers the telematics webhook's signing secret."""

    queryset = Fleet.objects.annotate(vehicle_count=Count("vehicles")).prefetch_related("managers")
    serializer_class = FleetSerializer
    input_serializer_class = FleetInputSerializer
    filterset_class = FleetFilterSet
    view_permission = "fleet.view"
    manage_permission = "fleet.manage"
    action_permissions = {"secret": "fleet.manage"}
    audit_name = "fleet"

    def create_service(self, data):
        return _mapped(services.fleet_create, **data)

    def update_service(self, instance, data):
        return _mapped(services.fleet_update, fleet=instance, **data)

    def delete_service(self, instance):
        services.fleet_delete(fleet=instance)

    @extend_schema(request=None, responses=FleetSecretSerializer)
    @action(detail=True, methods=["post"], filterset_class=None)
    def secret(self, request, pk=None):
        fleet = self.get_object()
        secret = services.fleet_rotate_secret(fleet=fleet)
        self.audit("rotate_secret", fleet)
        return Response(
            {"telematics_secret": secret, "signature_header": services.SIGNATURE_HEADER}
        )


class VehicleViewSet(FleetScopedMixin, ImportMixin, ScopedModelViewSet):
    """Vehicles (make, model, battery, VIN with its check digit, plate, depot) with their
    latest telemetry.  ``telemetry/`` lists readings (GET) or records one (POST: state of
    charge and/or odometer); ``import/`` and ``export/`` move vehicles as CSV or XLSX."""

    queryset = Vehicle.objects.select_related("fleet", "depot")
    serializer_class = VehicleSerializer
    input_serializer_class = VehicleInputSerializer
    filterset_class = VehicleFilterSet
    view_permission = "fleet.view"
    manage_permission = "fleet.manage"
    action_permissions = {
        "telemetry": "fleet.view",
        "telemetry_push": "fleet.manage",
        "vehicles_import": "fleet.manage",
        "vehicles_export": "fleet.view",
    }
    audit_name = "vehicle"
    import_function = staticmethod(imports.vehicles_import)

    def create_service(self, data):
        return _mapped(services.vehicle_create, **data)

    def update_service(self, instance, data):
        return _mapped(services.vehicle_update, vehicle=instance, **data)

    def delete_service(self, instance):
        services.vehicle_delete(vehicle=instance)

    @extend_schema(request=None, responses=TelemetrySerializer(many=True))
    @action(detail=True, methods=["get"], filterset_class=None)
    def telemetry(self, request, pk=None):
        vehicle = self.get_object()
        page = self.paginate_queryset(vehicle.telemetry.order_by("-recorded_at"))
        return self.get_paginated_response(TelemetrySerializer(page, many=True).data)

    @extend_schema(request=TelemetryInputSerializer, responses={201: TelemetrySerializer})
    @telemetry.mapping.post
    def telemetry_push(self, request, pk=None):
        vehicle = self.get_object()
        data = TelemetryInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reading = _mapped(services.telemetry_record, vehicle=vehicle, **data.validated_data)
        return Response(TelemetrySerializer(reading).data, status=201)

    @extend_schema(request=ImportSerializer, responses=ImportReportSerializer)
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
        filterset_class=None,
    )
    def vehicles_import(self, request):
        """Columns ``fleet`` (name), ``vin``, ``make``, ``model``, ``battery_kwh``, ``plate``,
        ``depot`` (site name).  Bad rows are reported by line; with bad rows nothing is
        imported unless ``keep_good``."""
        sites = list(Site.objects.restrict(self.actor, "fleet.view"))
        return self.run_import(request, sites=sites)

    @extend_schema(parameters=[FILE_PARAM], responses={(200, "text/csv"): OpenApiTypes.BINARY})
    @action(detail=False, methods=["get"], url_path="export")
    def vehicles_export(self, request):
        query = TableQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        file_format = query.validated_data["file"]
        queryset = self.filter_queryset(self.get_queryset())
        content = exports.table(exports.VehicleResource(), queryset, file_format)
        return _file(content, file_format, "vehicles")


class FleetCardViewSet(FleetScopedMixin, ImportMixin, ScopedModelViewSet):
    """RFID cards (and Autocharge vehicle ids) of a fleet: the core's tokens linked to a
    vehicle or a driver.  Creating a card links the token of that uid, or makes it; deleting
    unlinks it (the token stays)."""

    queryset = FleetCard.objects.select_related("token", "fleet", "vehicle")
    serializer_class = FleetCardSerializer
    filterset_class = FleetCardFilterSet
    view_permission = "fleet.view"
    manage_permission = "fleet.manage"
    action_permissions = {"cards_import": "fleet.manage", "cards_export": "fleet.view"}
    audit_name = "fleet_card"
    import_function = staticmethod(imports.cards_import)

    @classmethod
    def input_serializer_for(cls, action):
        if action == "create":
            return FleetCardInputSerializer
        if action in ("update", "partial_update"):
            return FleetCardUpdateSerializer
        return None

    def create_service(self, data):
        return _mapped(services.card_create, **data)

    def update_service(self, instance, data):
        return _mapped(services.card_update, card=instance, **data)

    def delete_service(self, instance):
        services.card_delete(card=instance)

    @extend_schema(request=ImportSerializer, responses=ImportReportSerializer)
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
        filterset_class=None,
    )
    def cards_import(self, request):
        """Columns ``fleet`` (name), ``card``, ``kind`` (rfid / autocharge), ``vehicle_vin``,
        ``driver``."""
        return self.run_import(request)

    @extend_schema(parameters=[FILE_PARAM], responses={(200, "text/csv"): OpenApiTypes.BINARY})
    @action(detail=False, methods=["get"], url_path="export")
    def cards_export(self, request):
        query = TableQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        file_format = query.validated_data["file"]
        queryset = self.filter_queryset(self.get_queryset())
        content = exports.table(exports.CardResource(), queryset, file_format)
        return _file(content, file_format, "fleet-cards")


class UsageViewSet(FleetScopedMixin, ReadOnlyScopedViewSet):
    """Sessions charged with fleet cards, per vehicle.  ``summary/`` totals a filtered set
    (sessions, energy, cost from the receipts, stations used); ``transactions/`` is the
    fuel-card transaction file (docs/fleet.md) of a vehicle or fleet and period."""

    queryset = VehicleSession.objects.select_related("session__station", "vehicle", "fleet")
    serializer_class = UsageSerializer
    filterset_class = VehicleSessionFilterSet
    view_permission = "fleet.view"
    action_permissions = {"summary": "fleet.view", "transactions": "fleet.view"}

    @extend_schema(responses=UsageSummarySerializer)
    @action(detail=False, methods=["get"])
    def summary(self, request):
        rows = selectors.usage_rows(self.filter_queryset(self.get_queryset()))
        summary = selectors.usage_summary(rows)
        return Response(UsageSummarySerializer(summary).data)

    @extend_schema(
        parameters=[ExportQuerySerializer],
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
    )
    @action(detail=False, methods=["get"], filterset_class=None)
    def transactions(self, request):
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        queryset = self.get_queryset()
        if "vehicle" in data:
            queryset = queryset.filter(vehicle_id=data["vehicle"])
        if "fleet" in data:
            queryset = queryset.filter(fleet_id=data["fleet"])
        rows = selectors.usage_rows(queryset, start=data.get("start"), end=data.get("end"))
        stamp = timezone.now().strftime("%Y%m%d")
        return _file(
            exports.fuel_card_file(rows, data["file"]), data["file"], f"transactions-{stamp}"
        )


class TelemetryViewSet(ReadOnlyScopedViewSet):
    queryset = TelemetryReading.objects.all()
    serializer_class = TelemetrySerializer
    filterset_class = TelemetryFilterSet
    view_permission = "fleet.view"

    def get_queryset(self):
        return selectors.scope_queryset(super().get_queryset(), self.actor)
