from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.stations.tags import normalize_tags

from ..models import Campaign, FirmwareImage
from ..selectors import campaign_report


class FirmwareImageSerializer(serializers.ModelSerializer):
    class Meta:
        model = FirmwareImage
        fields = [
            "id",
            "vendor",
            "model",
            "version",
            "size",
            "sha256",
            "signed",
            "notes",
            "uploaded_at",
        ]


class FirmwareImageInputSerializer(serializers.Serializer):
    file = serializers.FileField()
    vendor = serializers.CharField(max_length=50)
    model = serializers.CharField(max_length=50)
    version = serializers.CharField(max_length=50)
    sha256 = serializers.RegexField(r"^[0-9a-fA-F]{64}$", help_text=_("Hex SHA-256 of the file"))
    size = serializers.IntegerField(required=False, min_value=1)
    signature = serializers.CharField(required=False, allow_blank=True, default="")
    signing_certificate = serializers.CharField(required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class CampaignSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField()
    failure_reasons = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "image",
            "status",
            "pause_reason",
            "target_filter",
            "canary_count",
            "wave_percents",
            "concurrency",
            "failure_threshold_percent",
            "max_attempts",
            "retry_backoff_seconds",
            "window_start",
            "window_end",
            "force",
            "progress",
            "counts",
            "failure_reasons",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def _report(self, campaign):
        cache = self.context.setdefault("reports", {})
        if campaign.pk not in cache:
            cache[campaign.pk] = campaign_report(campaign=campaign)
        return cache[campaign.pk]

    def get_progress(self, campaign) -> int:
        return self._report(campaign).progress

    def get_counts(self, campaign) -> dict[str, int]:
        return self._report(campaign).counts

    def get_failure_reasons(self, campaign) -> dict[str, int]:
        return self._report(campaign).failure_reasons


class CampaignInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    image = serializers.IntegerField()
    model = serializers.CharField(required=False, help_text=_("Default: the image's model"))
    versions = serializers.ListField(
        child=serializers.CharField(), required=False, help_text=_("Only these current versions")
    )
    sites = serializers.ListField(child=serializers.IntegerField(), required=False)
    tags = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text=_("Only stations carrying every one of these tags"),
    )
    canary_count = serializers.IntegerField(min_value=0, default=1)
    wave_percents = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=100), default=[50]
    )
    concurrency = serializers.IntegerField(min_value=1, default=10)
    failure_threshold_percent = serializers.IntegerField(min_value=0, max_value=100, default=20)
    max_attempts = serializers.IntegerField(min_value=1, max_value=10, default=3)
    retry_backoff_seconds = serializers.IntegerField(min_value=0, default=300)
    window_start = serializers.TimeField(required=False, allow_null=True, default=None)
    window_end = serializers.TimeField(required=False, allow_null=True, default=None)
    force = serializers.BooleanField(default=False)

    def validate_tags(self, value: list[str]) -> list[str]:
        try:
            return normalize_tags(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None


class CampaignTransitionSerializer(serializers.Serializer):
    campaign = serializers.IntegerField()
    action = serializers.ChoiceField(choices=["start", "pause", "resume", "cancel"])
