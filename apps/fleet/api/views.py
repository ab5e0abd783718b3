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
    FleetCardInputSerializer,
    FleetCardSerializer,
    FleetCardUpdateSerializer,
    FleetImportReportSerializer,
    FleetImportSerializer,
    FleetInputSerializer,
    FleetSecretSerializer,
    FleetSerializer,
    PeriodQuerySerializer,
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


def _file_format(request) -> str:
    query = TableQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data["file"]


def _transactions(request, queryset, name: str) -> HttpResponse:
    query = PeriodQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    data = query.validated_data
    rows = selectors.usage_rows(queryset, start=data.get("start"), end=data.get("end"))
    stamp = timezone.now().strftime("%Y%m%d")
    return _file(
        exports.fuel_card_file(rows, data["file"]), data["file"], f"transactions-{name}-{stamp}"
    )


class FleetScopedMixin:
    """The base viewset restricts by site; a fleet manager then sees only their fleets."""

    def get_queryset(self):
        return selectors.scope_queryset(super().get_queryset(), self.actor)


class ImportMixin:
    import_function = None

    def run_import(self, request, **kwargs):
        data = FleetImportSerializer(data=request.data)
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
        return Response(FleetImportReportSerializer(report).data)


class FleetViewSet(FleetScopedMixin, ScopedModelViewSet):
    """Fleets: a home depot site (which scopes them) and their managers.  A person without
    ``fleet.all`` sees only the fleets that name them as managers.  ``secret/`` rotates and
    answers the telematics webhook's signing secret."""

    queryset = (
        Fleet.objects.annotate(vehicle_count=Count("vehicles"))
        .prefetch_related("managers")
        .order_by("name")
    )
    serializer_class = FleetSerializer
    input_serializer_class = FleetInputSerializer
    filterset_class = FleetFilterSet
    view_permission = "fleet.view"
    manage_permission = "fleet.manage"
    action_permissions = {
        "secret": "fleet.manage",
        "transactions": "fleet.view",
        "vehicles_export": "fleet.view",
        "cards_export": "fleet.view",
    }
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
        """A new secret for the fleet's telematics webhook (the old one stops working);
        answered once, with the header the provider signs in."""
        fleet = self.get_object()
        secret = services.fleet_rotate_secret(fleet=fleet)
        self.audit("rotate_secret", fleet)
        return Response(
            {"telematics_secret": secret, "signature_header": services.SIGNATURE_HEADER}
        )

    @extend_schema(
        parameters=[PeriodQuerySerializer],
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"], filterset_class=None)
    def transactions(self, request, pk=None):
        """The fleet's fuel-card transaction file for a period (every vehicle and driver)."""
        fleet = self.get_object()
        return _transactions(request, fleet.sessions.all(), f"fleet-{fleet.pk}")

    @extend_schema(parameters=[FILE_PARAM], responses={(200, "text/csv"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path="vehicles-export", filterset_class=None)
    def vehicles_export(self, request, pk=None):
        """The fleet's vehicles as CSV or XLSX (the columns ``vehicles/import/`` reads)."""
        fleet = self.get_object()
        file_format = _file_format(request)
        content = exports.table(
            exports.VehicleResource(), fleet.vehicles.order_by("pk"), file_format
        )
        return _file(content, file_format, f"vehicles-{fleet.pk}")

    @extend_schema(parameters=[FILE_PARAM], responses={(200, "text/csv"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path="cards-export", filterset_class=None)
    def cards_export(self, request, pk=None):
        """The fleet's cards as CSV or XLSX (the columns ``cards/import/`` reads)."""
        fleet = self.get_object()
        file_format = _file_format(request)
        queryset = fleet.cards.select_related("token", "vehicle").order_by("pk")
        content = exports.table(exports.CardResource(), queryset, file_format)
        return _file(content, file_format, f"cards-{fleet.pk}")


class VehicleViewSet(FleetScopedMixin, ImportMixin, ScopedModelViewSet):
    """Vehicles (make, model, battery, VIN with its check digit, plate, depot) with their
    latest telemetry.  ``telemetry/`` lists readings (GET) or records one (POST: state of
    charge and/or odometer); ``usage/`` and ``transactions/`` per period; ``import/`` reads
    vehicles from CSV or XLSX (the fleet's ``vehicles-export/`` writes them)."""

    queryset = Vehicle.objects.select_related("fleet", "depot").order_by("pk")
    serializer_class = VehicleSerializer
    input_serializer_class = VehicleInputSerializer
    filterset_class = VehicleFilterSet
    view_permission = "fleet.view"
    manage_permission = "fleet.manage"
    action_permissions = {
        "telemetry": "fleet.view",
        "telemetry_push": "fleet.manage",
        "vehicles_import": "fleet.manage",
        "usage": "fleet.view",
        "transactions": "fleet.view",
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
        """The vehicle's telemetry readings, newest first."""
        vehicle = self.get_object()
        page = self.paginate_queryset(vehicle.telemetry.order_by("-recorded_at"))
        return self.get_paginated_response(TelemetrySerializer(page, many=True).data)

    @extend_schema(request=TelemetryInputSerializer, responses={201: TelemetrySerializer})
    @telemetry.mapping.post
    def telemetry_push(self, request, pk=None):
        """Record a reading (state of charge in %, odometer in km, or both, at
        ``recorded_at``); the newest one is also the vehicle's current state."""
        vehicle = self.get_object()
        data = TelemetryInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reading = _mapped(services.telemetry_record, vehicle=vehicle, **data.validated_data)
        return Response(TelemetrySerializer(reading).data, status=201)

    @extend_schema(request=FleetImportSerializer, responses=FleetImportReportSerializer)
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

    @extend_schema(responses=UsageSummarySerializer, parameters=[PeriodQuerySerializer])
    @action(detail=True, methods=["get"], filterset_class=None)
    def usage(self, request, pk=None):
        """The vehicle's usage in a period: sessions, energy, cost from the receipts (per
        currency; unpriced sessions counted apart), stations used, first and last start."""
        vehicle = self.get_object()
        query = PeriodQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = selectors.usage_rows(
            vehicle.sessions.all(),
            start=query.validated_data.get("start"),
            end=query.validated_data.get("end"),
        )
        return Response(UsageSummarySerializer(selectors.usage_summary(rows)).data)

    @extend_schema(
        parameters=[PeriodQuerySerializer],
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"], filterset_class=None)
    def transactions(self, request, pk=None):
        """The vehicle's fuel-card transaction file for a period (``start``, ``end``: ISO
        times; ``file``: csv or xlsx); the layout is in docs/fleet.md."""
        vehicle = self.get_object()
        return _transactions(request, vehicle.sessions.all(), vehicle.vin)


class FleetCardViewSet(FleetScopedMixin, ImportMixin, ScopedModelViewSet):
    """RFID cards (and Autocharge vehicle ids) of a fleet: the core's tokens linked to a
    vehicle or a driver.  Creating a card links the token of that uid, or makes it; deleting
    unlinks it (the token stays)."""

    queryset = FleetCard.objects.select_related("token", "fleet", "vehicle").order_by("pk")
    serializer_class = FleetCardSerializer
    filterset_class = FleetCardFilterSet
    view_permission = "fleet.view"
    manage_permission = "fleet.manage"
    action_permissions = {"cards_import": "fleet.manage"}
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

    @extend_schema(request=FleetImportSerializer, responses=FleetImportReportSerializer)
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


class UsageViewSet(FleetScopedMixin, ReadOnlyScopedViewSet):
    """Sessions charged with fleet cards (filter by ``fleet``, ``vehicle``, ``start``,
    ``end``); per-vehicle totals are ``vehicles/{id}/usage/``."""

    queryset = VehicleSession.objects.select_related("session__station", "fleet")
    serializer_class = UsageSerializer
    filterset_class = VehicleSessionFilterSet
    view_permission = "fleet.view"


class TelemetryViewSet(ReadOnlyScopedViewSet):
    """Telemetry readings of the vehicles one sees (API pushes and the signed webhook)."""

    queryset = TelemetryReading.objects.select_related("vehicle__fleet")
    serializer_class = TelemetrySerializer
    filterset_class = TelemetryFilterSet
    view_permission = "fleet.view"

    def get_queryset(self):
        return selectors.scope_queryset(super().get_queryset(), self.actor)
