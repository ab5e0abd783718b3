from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from apps.api.viewsets import CreateMixin, ScopedViewSet, UpdateMixin
from apps.stations.models import Site

from .. import services
from ..filtersets import (
    MediaAssetFilterSet,
    MediaDeliveryFilterSet,
    MediaScheduleFilterSet,
    PlaylistFilterSet,
    ScreenModelFilterSet,
)
from ..models import MediaAsset, MediaDelivery, MediaSchedule, Playlist, ScreenModel
from .serializers import (
    MediaAssetInputSerializer,
    MediaAssetSerializer,
    MediaDeliverySerializer,
    MediaScheduleInputSerializer,
    MediaSchedulePublishSerializer,
    MediaScheduleSerializer,
    MediaScheduleUpdateSerializer,
    PlaylistInputSerializer,
    PlaylistSerializer,
    ScreenModelInputSerializer,
    ScreenModelSerializer,
)

VIEW, MANAGE = "media.view", "media.manage"


class ScreenModelViewSet(mixins.ListModelMixin, CreateMixin, ScopedViewSet):
    """What each station model's screen can show (a model not listed has no screen). POST
    records a model or changes the one already recorded."""

    queryset = ScreenModel.objects.order_by("vendor", "model")
    serializer_class = ScreenModelSerializer
    input_serializer_class = ScreenModelInputSerializer
    filterset_class = ScreenModelFilterSet
    view_permission, manage_permission = VIEW, MANAGE
    audit_name = "media_screen"

    def create_service(self, data):
        return services.screen_model_save(**data)


class MediaAssetViewSet(mixins.ListModelMixin, CreateMixin, ScopedViewSet):
    """The media library: upload a video (with its poster) or an image (multipart); format,
    resolution and size are checked from the file's bytes."""

    queryset = MediaAsset.objects.all()
    serializer_class = MediaAssetSerializer
    input_serializer_class = MediaAssetInputSerializer
    filterset_class = MediaAssetFilterSet
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    view_permission, manage_permission = VIEW, MANAGE
    audit_name = "media_asset"

    def create_service(self, data):
        return services.media_asset_upload(
            name=data["name"], upload=data["file"], thumbnail=data.get("thumbnail")
        )


class PlaylistViewSet(mixins.ListModelMixin, CreateMixin, ScopedViewSet):
    """Playlists: assets in order, images with how long they stay on screen."""

    queryset = Playlist.objects.prefetch_related("items").order_by("-created_at")
    serializer_class = PlaylistSerializer
    input_serializer_class = PlaylistInputSerializer
    filterset_class = PlaylistFilterSet
    view_permission, manage_permission = VIEW, MANAGE
    audit_name = "media_playlist"

    def create_service(self, data):
        ids = [item["asset"] for item in data["items"]]
        assets = MediaAsset.objects.restrict(self.actor, VIEW).in_bulk(ids)
        missing = sorted(set(ids) - set(assets))
        if missing:
            raise ValidationError({"items": f"Unknown assets: {missing}"})
        items = [(assets[item["asset"]], item["seconds"]) for item in data["items"]]
        return services.playlist_create(name=data["name"], items=items)


class MediaScheduleViewSet(mixins.ListModelMixin, CreateMixin, UpdateMixin, ScopedViewSet):
    """Schedules: a playlist on the screens of some sites between two dates, during daily
    hours in each site's timezone, at a priority.  Creating or changing one sends it to the
    stations (a change is a new revision, sent again); ``publish`` sends it again to every
    station that does not hold it."""

    queryset = MediaSchedule.objects.prefetch_related("sites").order_by("-created_at")
    serializer_class = MediaScheduleSerializer
    input_serializer_class = MediaScheduleInputSerializer
    filterset_class = MediaScheduleFilterSet
    view_permission, manage_permission = VIEW, MANAGE
    action_permissions = {"publish": MANAGE}
    audit_name = "media_schedule"

    def paginate_queryset(self, queryset):
        """The page's delivery counts in one query (no query per schedule)."""
        from ..selectors import delivery_counts

        page = super().paginate_queryset(queryset)
        rows = page if page is not None else list(queryset)
        self._counts = delivery_counts(schedule_ids=[schedule.pk for schedule in rows])
        return page

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if hasattr(self, "_counts"):
            context["counts"] = self._counts
        return context

    @classmethod
    def input_serializer_for(cls, action):
        if action in ("update", "partial_update"):
            return MediaScheduleUpdateSerializer
        return super().input_serializer_for(action)

    def _resolve(self, data):
        if "playlist" in data:
            playlist = Playlist.objects.restrict(self.actor, VIEW).filter(pk=data["playlist"])
            data["playlist"] = playlist.first()
            if data["playlist"] is None:
                raise ValidationError({"playlist": "Unknown playlist."})
        if "sites" in data:
            ids = set(data["sites"])
            sites = list(Site.objects.restrict(self.actor, MANAGE).filter(pk__in=ids))
            if len(sites) != len(ids):
                raise ValidationError({"sites": "Unknown sites."})
            data["sites"] = sites
        return data

    def create_service(self, data):
        schedule = services.media_schedule_create(**self._resolve(dict(data)))
        services.schedule_publish(schedule=schedule)
        return schedule

    def update_service(self, instance, data):
        return services.media_schedule_update(schedule=instance, **self._resolve(dict(data)))

    @extend_schema(request=MediaSchedulePublishSerializer, responses=MediaScheduleSerializer)
    @action(detail=False, methods=["post"])
    def publish(self, request):
        """Send a schedule again to every station of its sites that does not hold it."""
        serializer = MediaSchedulePublishSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        schedule = self.get_queryset().filter(pk=serializer.validated_data["schedule"]).first()
        if schedule is None:
            raise NotFound()
        services.schedule_publish(schedule=schedule)
        self.audit("publish", schedule)
        return Response(MediaScheduleSerializer(schedule).data)


class MediaDeliveryViewSet(mixins.ListModelMixin, ScopedViewSet):
    """What each station got: confirmed (the digest of the manifest it fetched matches),
    rejected, refused (no screen, or an item it cannot play), failed or waiting."""

    queryset = MediaDelivery.objects.all()
    serializer_class = MediaDeliverySerializer
    filterset_class = MediaDeliveryFilterSet
    view_permission = VIEW
    audit_name = "media_delivery"
