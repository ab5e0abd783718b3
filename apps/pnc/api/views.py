from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.exceptions import Conflict
from apps.api.viewsets import (
    CreateMixin,
    DestroyMixin,
    ReadOnlyScopedViewSet,
    ScopedViewSet,
    UpdateMixin,
)
from apps.ocpp import commands
from apps.stations.models import Station

from .. import services
from ..models import (
    CertificateAuthority,
    InstalledCertificate,
    PncSettings,
    StationCertificate,
    TrustedRoot,
)
from .serializers import (
    CertificateAuthoritySerializer,
    CertificateCommandSerializer,
    CertificateInstallSerializer,
    CertificateRefreshSerializer,
    InstalledCertificateSerializer,
    PncSettingsSerializer,
    StationCertificateSerializer,
    TrustedRootInputSerializer,
    TrustedRootSerializer,
)


class CertificateAuthorityViewSet(ReadOnlyScopedViewSet):
    """The tenant's Plug & Charge CA (created when a station first asks for a certificate)."""

    queryset = CertificateAuthority.objects.order_by("pk")
    serializer_class = CertificateAuthoritySerializer
    view_permission = "pnc.view"


class StationCertificateViewSet(ReadOnlyScopedViewSet):
    """Certificates the CA signed for stations (SignCertificate), with expiry and delivery."""

    queryset = StationCertificate.objects.select_related("station").order_by("not_after")
    serializer_class = StationCertificateSerializer
    view_permission = "pnc.view"


class TrustedRootViewSet(CreateMixin, DestroyMixin, ReadOnlyScopedViewSet):
    """eMobility roots trusted for contract certificates (Authorize, C07)."""

    queryset = TrustedRoot.objects.all()
    serializer_class = TrustedRootSerializer
    view_permission = "pnc.view"
    manage_permission = "pnc.manage"
    audit_name = "pnc_trusted_root"

    @classmethod
    def input_serializer_for(cls, action):
        return TrustedRootInputSerializer if action == "create" else None

    def create_service(self, data):
        try:
            return services.trusted_root_add(**data)
        except ValueError as error:
            raise serializers.ValidationError({"certificate_pem": [str(error)]}) from error

    def delete_service(self, instance):
        services.trusted_root_delete(root=instance)


def _requester(view) -> commands.Requester:
    return commands.Requester(
        actor=view.actor, source="api", ip=view.request.META.get("REMOTE_ADDR")
    )


class InstalledCertificateViewSet(DestroyMixin, ReadOnlyScopedViewSet):
    """Certificates stations reported holding (GetInstalledCertificateIds) or installed at
    our request.  DELETE sends DeleteCertificate: the record goes when the station answers
    Accepted or NotFound; an offline station or a refusal leaves it (409)."""

    queryset = InstalledCertificate.objects.select_related("station").order_by("pk")
    serializer_class = InstalledCertificateSerializer
    view_permission = "pnc.view"
    manage_permission = "pnc.manage"
    audit_name = "pnc_installed_certificate"
    talks_to_station = True  # DELETE sends DeleteCertificate
    filterset_fields = ["station", "certificate_type"]

    def delete_service(self, instance):
        reply = services.certificate_delete(requester=_requester(self), installed=instance)
        reply.raise_error()
        if reply.status not in ("Accepted", "NotFound"):
            raise Conflict(reply.message)


class PncStationViewSet(ScopedViewSet):
    """Certificate management on a station: install a root (InstallCertificate) and ask the
    station what it holds (GetInstalledCertificateIds); both talk to the station."""

    queryset = Station.objects.select_related("site").order_by("pk")
    serializer_class = CertificateCommandSerializer
    view_permission = "pnc.view"
    action_permissions = {"certificates": "pnc.manage", "certificates_refresh": "pnc.manage"}
    talks_to_station = True
    pagination_class = None

    def _answer(self, station, reply) -> Response:
        reply.raise_error()
        installed = InstalledCertificate.objects.filter(station=station)
        return Response(
            CertificateCommandSerializer(
                {"status": reply.status, "response": reply.payload, "installed": installed}
            ).data
        )

    @extend_schema(request=CertificateInstallSerializer, responses=CertificateCommandSerializer)
    @action(detail=True, methods=["post"])
    def certificates(self, request, pk=None):
        """InstallCertificate of one CA certificate (PEM); 400 for one the station should
        never see (not PEM, not a CA, a type its OCPP version has no word for)."""
        station = self.get_object()
        data = CertificateInstallSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            reply = services.certificate_install(
                requester=_requester(self), station=station, **data.validated_data
            )
        except ValueError as error:
            raise serializers.ValidationError({"certificate_pem": [str(error)]}) from error
        self.audit("pnc.certificate_install", station, changes=dict(data.validated_data))
        return self._answer(station, reply)

    @extend_schema(request=CertificateRefreshSerializer, responses=CertificateCommandSerializer)
    @action(detail=True, methods=["post"], url_path="certificates/refresh")
    def certificates_refresh(self, request, pk=None):
        """GetInstalledCertificateIds: what the station answers replaces the record."""
        station = self.get_object()
        data = CertificateRefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            reply = services.installed_refresh(
                requester=_requester(self),
                station=station,
                certificate_types=data.validated_data["certificate_types"],
            )
        except ValueError as error:
            raise serializers.ValidationError(
                {"certificate_types": [f"{error} is not a type this station knows"]}
            ) from error
        return self._answer(station, reply)


class PncSettingsViewSet(CreateMixin, UpdateMixin, ReadOnlyScopedViewSet):
    """The tenant's contract-certificate provider (pool URL, timeout, CA certificates for its
    HTTPS endpoint) and OCSP (responder, timeout, accept unknown statuses when it is down).
    One row: POST saves it (created the first time), PATCH changes it."""

    queryset = PncSettings.objects.order_by("pk")
    serializer_class = PncSettingsSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    view_permission = "pnc.view"
    manage_permission = "pnc.manage"
    audit_name = "pnc_settings"

    def _save(self, data):
        try:
            return services.pnc_settings_update(**data)
        except ValueError as error:
            raise serializers.ValidationError({"pool_ca_pem": [str(error)]}) from error

    def create_service(self, data):
        return self._save(data)

    def update_service(self, instance, data):
        return self._save(data)
