from __future__ import annotations

from rest_framework import serializers

from ..choices import TipStatus
from ..models import DriverCard, FinderListing, Tip


# --- Staff (/api/v1/drivers/...) -------------------------------------------------------------
class FinderListingSerializer(serializers.ModelSerializer):
    class Meta:
        model = FinderListing
        fields = [
            "id",
            "site",
            "published",
            "access",
            "shared",
            "opens_at",
            "closes_at",
            "access_note",
            "updated_at",
        ]
        read_only_fields = ["id", "updated_at"]


class FinderListingUpdateSerializer(FinderListingSerializer):
    class Meta(FinderListingSerializer.Meta):
        read_only_fields = ["id", "site", "updated_at"]


class TipSerializer(serializers.ModelSerializer):
    site = serializers.IntegerField(source="station.site_id", read_only=True)
    photos = serializers.SerializerMethodField()

    class Meta:
        model = Tip
        fields = [
            "id",
            "station",
            "site",
            "body",
            "status",
            "score",
            "created_at",
            "moderated_at",
            "photos",
        ]
        read_only_fields = fields

    def get_photos(self, tip) -> list[int]:
        return [photo.pk for photo in tip.photos.all()]


class TipModerateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[TipStatus.PUBLISHED, TipStatus.HIDDEN])


# --- Drivers (/drivers/api/v1/...) -----------------------------------------------------------
class DriverMeSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(read_only=True)
    email_verified = serializers.BooleanField(source="is_verified", read_only=True)
    full_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=["en", "fr"], required=False)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    notify_email = serializers.BooleanField(required=False)
    notify_sms = serializers.BooleanField(required=False)
    notify_push = serializers.BooleanField(required=False)


class DriverCardSerializer(serializers.ModelSerializer):
    uid = serializers.CharField(source="token.uid", read_only=True)

    class Meta:
        model = DriverCard
        fields = ["id", "uid", "status", "verified_by", "requested_at", "verified_at"]
        read_only_fields = fields


class CardLinkSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)


class CardCodeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=12)


class DriverTipCreateSerializer(serializers.Serializer):
    station = serializers.IntegerField()
    body = serializers.CharField(min_length=3, max_length=1000)


class TipVoteSerializer(serializers.Serializer):
    value = serializers.ChoiceField(choices=[-1, 0, 1])
