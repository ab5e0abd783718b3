from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from apps.api.viewsets import CreateMixin, ScopedViewSet

from .. import selectors, services
from ..filtersets import CampaignFilterSet, FirmwareImageFilterSet
from ..models import Campaign, FirmwareImage
from .serializers import (
    CampaignInputSerializer,
    CampaignSerializer,
    CampaignTransitionSerializer,
    FirmwareImageInputSerializer,
    FirmwareImageSerializer,
)

TRANSITIONS = {
    "start": services.campaign_start,
    "pause": services.campaign_pause,
    "resume": services.campaign_resume,
    "cancel": services.campaign_cancel,
}


class FirmwareImageViewSet(mixins.ListModelMixin, CreateMixin, ScopedViewSet):
    """The firmware catalogue: upload an image (multipart) with its SHA-256, and for a signed
    update its signature and signing certificate."""

    queryset = FirmwareImage.objects.all()
    serializer_class = FirmwareImageSerializer
    input_serializer_class = FirmwareImageInputSerializer
    filterset_class = FirmwareImageFilterSet
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    view_permission = "firmware.view"
    manage_permission = "firmware.manage"
    audit_name = "firmware_image"

    def create_service(self, data):
        return services.firmware_image_upload(upload=data.pop("file"), **data)


class CampaignViewSet(mixins.ListModelMixin, CreateMixin, ScopedViewSet):
    """Update campaigns with their progress and report; create one from a filter, then start,
    pause, resume or cancel it."""

    queryset = Campaign.objects.select_related("image")
    serializer_class = CampaignSerializer
    input_serializer_class = CampaignInputSerializer
    filterset_class = CampaignFilterSet
    view_permission = "firmware.view"
    manage_permission = "firmware.manage"
    action_permissions = {"transition": "firmware.manage"}
    audit_name = "firmware_campaign"

    def create_service(self, data):
        image = (
            FirmwareImage.objects.restrict(self.actor, "firmware.view")
            .filter(pk=data.pop("image"))
            .first()
        )
        if image is None:
            raise NotFound()
        target_filter = {
            "model": data.pop("model", None) or image.model,
            "versions": data.pop("versions", []),
            "sites": data.pop("sites", []),
            "tags": data.pop("tags", []),
        }
        stations = selectors.stations_for_campaign(
            actor=self.actor,
            image=image,
            versions=target_filter["versions"],
            site_ids=target_filter["sites"],
            model=target_filter["model"],
            tags=target_filter["tags"],
        )
        return services.campaign_create(
            image=image,
            stations=stations,
            target_filter=target_filter,
            created_by=getattr(self.request.user, "email", ""),
            **data,
        )

    @extend_schema(request=CampaignTransitionSerializer, responses=CampaignSerializer)
    @action(detail=False, methods=["post"])
    def transition(self, request):
        """Start, pause, resume or cancel a campaign (``campaign``, ``action``)."""
        serializer = CampaignTransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        campaign = self.get_queryset().filter(pk=serializer.validated_data["campaign"]).first()
        if campaign is None:
            raise NotFound()
        verb = serializer.validated_data["action"]
        campaign = TRANSITIONS[verb](campaign=campaign)
        self.audit(verb, campaign)
        return Response(CampaignSerializer(campaign).data)
