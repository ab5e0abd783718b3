from __future__ import annotations

from rest_framework import serializers

from apps.api.viewsets import CreateMixin, DestroyMixin, ReadOnlyScopedViewSet

from .. import services
from ..models import CertificateAuthority, StationCertificate, TrustedRoot
from .serializers import (
    CertificateAuthoritySerializer,
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
