from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from apps.api.fields import ScopedPrimaryKeyRelatedField
from apps.stations.models import Site, Station

from .. import selectors
from ..models import WaitlistEntry, WaitlistGroup


class WaitlistGroupSerializer(serializers.ModelSerializer):
    waiting = serializers.SerializerMethodField()

    class Meta:
        model = WaitlistGroup
        fields = [
            "id",
            "site",
            "name",
            "stations",
            "hold_minutes",
            "max_no_shows",
            "allow_several_queues",
            "opens_at",
            "closes_at",
            "is_active",
            "waiting",
            "created_at",
        ]

    def get_waiting(self, group) -> int:
        return selectors.waiting(group).count()


class WaitlistGroupUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    stations = ScopedPrimaryKeyRelatedField(
        permission="waitlist.manage", queryset=Station.objects.all(), many=True
    )
    hold_minutes = serializers.IntegerField(min_value=1, max_value=240, default=10)
    max_no_shows = serializers.IntegerField(min_value=1, max_value=20, default=2)
    allow_several_queues = serializers.BooleanField(default=False)
    opens_at = serializers.TimeField(allow_null=True, default=None)
    closes_at = serializers.TimeField(allow_null=True, default=None)
    is_active = serializers.BooleanField(default=True)


class WaitlistGroupCreateSerializer(WaitlistGroupUpdateSerializer):
    site = ScopedPrimaryKeyRelatedField(permission="waitlist.manage", queryset=Site.objects.all())


class WaitlistEntrySerializer(serializers.ModelSerializer):
    site = serializers.IntegerField(source="group.site_id", read_only=True)
    position = serializers.SerializerMethodField()
    expected_wait_minutes = serializers.SerializerMethodField()
    held_port = serializers.IntegerField(source="held_evse_id", read_only=True, allow_null=True)

    class Meta:
        model = WaitlistEntry
        fields = [
            "id",
            "site",
            "group",
            "token_uid",
            "status",
            "joined_via",
            "joined_at",
            "position",
            "expected_wait_minutes",
            "no_shows",
            "held_port",
            "hold_expires_at",
            "reservation_state",
            "session",
        ]

    def get_position(self, entry) -> int | None:
        return selectors.entry_position(entry)

    def get_expected_wait_minutes(self, entry) -> int | None:
        wait = selectors.expected_wait(entry)
        return None if wait is None else int(wait.total_seconds() // 60)


class WaitlistJoinSerializer(serializers.Serializer):
    group = ScopedPrimaryKeyRelatedField(
        permission="waitlist.manage", queryset=WaitlistGroup.objects.all()
    )
    token_uid = serializers.CharField(max_length=64)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(choices=settings.LANGUAGES, default="en")
