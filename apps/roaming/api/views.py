"""Roaming API: partners (invite, register with, rotate, unregister), their tokens, the
pushes sent to them and the commands they sent."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.viewsets import CreateMixin, ReadOnlyScopedViewSet

from .. import client, services
from ..filtersets import (
    PartnerFilterSet,
    PushFilterSet,
    RemoteCommandFilterSet,
    RemoteTokenFilterSet,
)
from ..models import Partner, Push, RemoteCommand, RemoteToken
from .serializers import (
    PartnerCreatedSerializer,
    PartnerInputSerializer,
    PartnerSerializer,
    PushSerializer,
    RemoteCommandSerializer,
    RemoteTokenSerializer,
)

PARTNER_ERRORS = (services.HandshakeError, client.OcpiError)


class PartnerViewSet(CreateMixin, ReadOnlyScopedViewSet):
    """OCPI partners (eMSPs, hubs).  POST with a name invites one (the answer holds the token
    to give them); with their versions URL and token, we register with them."""

    queryset = Partner.objects.all()
    serializer_class = PartnerSerializer
    input_serializer_class = PartnerInputSerializer
    filterset_class = PartnerFilterSet
    view_permission = "roaming.view"
    manage_permission = "roaming.manage"
    action_permissions = {
        "rotate": "roaming.manage",
        "unregister": "roaming.manage",
        "pull_tokens": "roaming.manage",
    }

    @extend_schema(responses={201: PartnerCreatedSerializer})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def create_service(self, data):
        if data.get("versions_url"):
            try:
                return services.partner_register(
                    name=data["name"], versions_url=data["versions_url"], token=data["token"]
                )
            except PARTNER_ERRORS as failure:
                raise drf_serializers.ValidationError({"versions_url": [str(failure)]}) from None
        return services.partner_invite(name=data["name"])

    def get_serializer(self, *args, **kwargs):
        if self.action == "create" and self.request.method == "POST":
            return PartnerCreatedSerializer(*args, context=self.get_serializer_context(), **kwargs)
        return super().get_serializer(*args, **kwargs)

    @extend_schema(request=None, responses=PartnerSerializer)
    @action(detail=True, methods=["post"])
    def rotate(self, request, pk=None):
        """Give the partner a new token to call us with (their credentials are updated)."""
        partner = self.get_object()
        try:
            partner = services.partner_rotate(partner=partner)
        except PARTNER_ERRORS as failure:
            raise drf_serializers.ValidationError({"detail": str(failure)}) from None
        self.audit("rotate", partner)
        return Response(PartnerSerializer(partner).data)

    @extend_schema(request=None, responses=PartnerSerializer)
    @action(detail=True, methods=["post"])
    def unregister(self, request, pk=None):
        """End the connection (their credentials are deleted on both sides)."""
        partner = self.get_object()
        services.partner_unregister(partner=partner)
        self.audit("unregister", partner)
        return Response(PartnerSerializer(self.refetch(partner)).data)

    @extend_schema(request=None, responses=PartnerSerializer)
    @action(detail=True, methods=["post"], url_path="pull-tokens")
    def pull_tokens(self, request, pk=None):
        """Pull what changed in the partner's tokens now (``?full=1``: all of them)."""
        partner = self.get_object()
        try:
            services.tokens_pull(partner=partner, full=request.query_params.get("full") == "1")
        except services.PullError as failure:
            raise drf_serializers.ValidationError({"detail": str(failure)}) from None
        self.audit("pull_tokens", partner)
        return Response(PartnerSerializer(self.refetch(partner)).data)


class RemoteTokenViewSet(ReadOnlyScopedViewSet):
    """Partners' drivers' tokens, pushed to us or learnt in real-time authorisations."""

    queryset = RemoteToken.objects.all()
    serializer_class = RemoteTokenSerializer
    filterset_class = RemoteTokenFilterSet
    view_permission = "roaming.view"


class PushViewSet(ReadOnlyScopedViewSet):
    """What we sent or will send to partners (locations, sessions, CDRs, command results)."""

    queryset = Push.objects.all()
    serializer_class = PushSerializer
    filterset_class = PushFilterSet
    view_permission = "roaming.view"


class RemoteCommandViewSet(ReadOnlyScopedViewSet):
    """Commands partners sent us, with their results."""

    queryset = RemoteCommand.objects.all()
    serializer_class = RemoteCommandSerializer
    filterset_class = RemoteCommandFilterSet
    view_permission = "roaming.view"
