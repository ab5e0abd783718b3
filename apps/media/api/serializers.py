from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..models import MediaAsset, MediaDelivery, MediaSchedule, Playlist, PlaylistItem, ScreenModel


class ScreenModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScreenModel
        fields = ["id", "vendor", "model", "has_screen", "max_width", "max_height", "formats"]


class ScreenModelInputSerializer(serializers.Serializer):
    vendor = serializers.CharField(max_length=50)
    model = serializers.CharField(max_length=50)
    has_screen = serializers.BooleanField(default=True)
    max_width = serializers.IntegerField(min_value=1, default=1920)
    max_height = serializers.IntegerField(min_value=1, default=1080)
    formats = serializers.ListField(
        child=serializers.ChoiceField(choices=["mp4", "png", "jpeg"]), default=list
    )


class MediaAssetSerializer(serializers.ModelSerializer):
    class Meta:
        model = MediaAsset
        fields = ["id", "name", "kind", "format", "width", "height", "size", "sha256"]
        fields += ["uploaded_at"]


class MediaAssetInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    file = serializers.FileField(help_text=_("MP4 (H.264), PNG or JPEG; 320×240 to 3840×2160"))
    thumbnail = serializers.FileField(
        required=False, allow_null=True, default=None, help_text=_("A video's PNG or JPEG poster")
    )


class PlaylistItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlaylistItem
        fields = ["position", "asset", "seconds"]


class PlaylistSerializer(serializers.ModelSerializer):
    items = PlaylistItemSerializer(many=True, read_only=True)

    class Meta:
        model = Playlist
        fields = ["id", "name", "items", "created_at"]


class PlaylistItemInputSerializer(serializers.Serializer):
    asset = serializers.IntegerField()
    seconds = serializers.IntegerField(min_value=0, max_value=3600, default=10)


class PlaylistInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    items = PlaylistItemInputSerializer(many=True, allow_empty=False)


class MediaScheduleSerializer(serializers.ModelSerializer):
    counts = serializers.SerializerMethodField()

    class Meta:
        model = MediaSchedule
        fields = [
            "id",
            "playlist",
            "sites",
            "starts_on",
            "ends_on",
            "daily_start",
            "daily_end",
            "priority",
            "text",
            "revision",
            "counts",
            "created_at",
        ]

    def get_counts(self, schedule) -> dict[str, int]:
        """Deliveries per status."""
        from ..selectors import delivery_counts

        cache = self.context.setdefault("counts", {})
        if schedule.pk not in cache:
            cache.update(delivery_counts(schedule_ids=[schedule.pk]))
        return cache.get(schedule.pk, {})


class MediaScheduleInputSerializer(serializers.Serializer):
    playlist = serializers.IntegerField()
    sites = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    daily_start = serializers.TimeField(help_text=_("Each site's local time"))
    daily_end = serializers.TimeField()
    priority = serializers.IntegerField(min_value=0, max_value=100, default=0)
    text = serializers.CharField(max_length=512, required=False, allow_blank=True, default="")


class MediaScheduleUpdateSerializer(MediaScheduleInputSerializer):
    playlist = serializers.IntegerField(required=False)
    sites = serializers.ListField(child=serializers.IntegerField(), required=False)
    starts_on = serializers.DateField(required=False)
    ends_on = serializers.DateField(required=False)
    daily_start = serializers.TimeField(required=False)
    daily_end = serializers.TimeField(required=False)
    priority = serializers.IntegerField(min_value=0, max_value=100, required=False)
    text = serializers.CharField(max_length=512, required=False, allow_blank=True)


class MediaSchedulePublishSerializer(serializers.Serializer):
    schedule = serializers.IntegerField()


class MediaDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = MediaDelivery
        fields = [
            "id",
            "schedule",
            "station",
            "status",
            "detail",
            "revision",
            "attempts",
            "served_digest",
            "confirmed_digest",
            "display_message_status",
            "sent_at",
            "answered_at",
        ]
