from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.api.fields import ScopedPrimaryKeyRelatedField
from apps.charging.models import IdToken
from apps.stations.models import Evse, Site, Station

from ..choices import HolidayMode, Level, RuleKind, Weekday
from ..models import AccessGroup, AccessRule, Holiday, RuleWindow, StationLocalList

LEVEL_NAMES = {Level.PORT: "port", Level.STATION: "station", Level.SITE: "site"}


class AccessGroupSerializer(serializers.ModelSerializer):
    members = serializers.IntegerField(source="member_count", read_only=True)

    class Meta:
        model = AccessGroup
        fields = ["id", "name", "description", "members", "created_at"]


class AccessGroupInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=300, allow_blank=True, default="")


class MemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = IdToken
        fields = ["id", "uid", "label", "is_active", "expires_at"]


class MembersChangeSerializer(serializers.Serializer):
    add = serializers.ListField(
        child=serializers.CharField(max_length=64), default=list, max_length=10_000
    )
    remove = serializers.ListField(
        child=serializers.CharField(max_length=64), default=list, max_length=10_000
    )

    # members other than tokens, by the key their app answers (docs/fleet.md): "fleet.fleet:3"
    add_keys = serializers.ListField(
        child=serializers.RegexField(r"^[a-z_]+\.[a-z_]+:\d+$", max_length=80),
        default=list,
        max_length=1000,
    )
    remove_keys = serializers.ListField(
        child=serializers.CharField(max_length=80), default=list, max_length=1000
    )

    def validate(self, attrs):
        if not any(attrs[name] for name in ("add", "remove", "add_keys", "remove_keys")):
            raise serializers.ValidationError(_("Name tokens to add or to remove."))
        return attrs


class WindowSerializer(serializers.ModelSerializer):
    weekday = serializers.ChoiceField(choices=Weekday.choices)

    class Meta:
        model = RuleWindow
        fields = ["weekday", "start", "end"]


class AccessRuleSerializer(serializers.ModelSerializer):
    site = serializers.IntegerField(source="scope_site_id", read_only=True)
    level = serializers.SerializerMethodField()
    port = serializers.IntegerField(source="evse_id", read_only=True, allow_null=True)
    windows = WindowSerializer(many=True, read_only=True)

    class Meta:
        model = AccessRule
        fields = [
            "id",
            "name",
            "site",
            "level",
            "station",
            "port",
            "kind",
            "groups",
            "windows",
            "date_from",
            "date_to",
            "holidays",
            "created_at",
        ]

    def get_level(self, rule) -> str:
        return LEVEL_NAMES[rule.level]


class AccessRuleUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=RuleKind.choices)
    groups = serializers.PrimaryKeyRelatedField(
        queryset=AccessGroup.objects.all(), many=True, default=list
    )
    windows = WindowSerializer(many=True, default=list)
    date_from = serializers.DateField(allow_null=True, default=None)
    date_to = serializers.DateField(allow_null=True, default=None)
    holidays = serializers.ChoiceField(choices=HolidayMode.choices, default=HolidayMode.AS_USUAL)
    confirm_lockout = serializers.BooleanField(
        default=False, help_text="Create the rule even if nobody may then charge at its place."
    )

    def validate_windows(self, windows):
        return [(w["weekday"], w["start"], w["end"]) for w in windows]


class AccessRuleCreateSerializer(AccessRuleUpdateSerializer):
    """Exactly one of ``site``, ``station`` or ``port``."""

    site = ScopedPrimaryKeyRelatedField(
        permission="access.manage", queryset=Site.objects.all(), allow_null=True, default=None
    )
    station = ScopedPrimaryKeyRelatedField(
        permission="access.manage", queryset=Station.objects.all(), allow_null=True, default=None
    )
    port = ScopedPrimaryKeyRelatedField(
        permission="access.manage",
        queryset=Evse.objects.all(),
        allow_null=True,
        default=None,
        source="evse",
    )

    def validate(self, attrs):
        if sum(attrs.get(name) is not None for name in ("site", "station", "evse")) != 1:
            raise serializers.ValidationError(
                {"site": [_("Name exactly one of site, station or port.")]}
            )
        return attrs


class HolidaySerializer(serializers.ModelSerializer):
    class Meta:
        model = Holiday
        fields = ["id", "date", "name", "site"]


class HolidayUpdateSerializer(serializers.Serializer):
    date = serializers.DateField()
    name = serializers.CharField(max_length=120)


class HolidayCreateSerializer(HolidayUpdateSerializer):
    site = ScopedPrimaryKeyRelatedField(
        permission="access.manage",
        queryset=Site.objects.all(),
        allow_null=True,
        default=None,
        help_text="Empty: a holiday of every site (needs the permission on all sites).",
    )


class ExplainQuerySerializer(serializers.Serializer):
    token = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="The token's id (idTag / idToken); empty: a card in no group.",
    )
    port = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, default=None, help_text="Port (EVSE) number"
    )
    at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="When (default: now)"
    )


class ExplanationSerializer(serializers.Serializer):
    token = serializers.CharField(source="uid")
    station = serializers.IntegerField(source="station.pk")
    port = serializers.IntegerField(source="evse_id", allow_null=True)
    at = serializers.DateTimeField(source="moment")
    local_time = serializers.SerializerMethodField()
    token_known = serializers.SerializerMethodField()
    token_status = serializers.CharField()
    rules_decide = serializers.BooleanField(source="decision.decided")
    rules_allow = serializers.BooleanField(source="decision.allowed")
    reason = serializers.CharField(source="decision.reason")
    level = serializers.SerializerMethodField()
    rule = serializers.SerializerMethodField()
    answer = serializers.CharField(help_text="What the station is told (OCPP 2.0.1 names)")
    steps = serializers.ListField(child=serializers.CharField())
    overlaps = serializers.ListField(child=serializers.CharField())

    def get_local_time(self, explanation) -> str:
        return explanation.local.isoformat()

    def get_token_known(self, explanation) -> bool:
        return explanation.token is not None

    def get_level(self, explanation) -> str | None:
        level = explanation.decision.level
        return LEVEL_NAMES[Level(level)] if level else None

    def get_rule(self, explanation) -> int | None:
        rule = explanation.decision.rule
        return rule.id if rule else None


class ImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV (UTF-8) or XLSX")
    keep_good = serializers.BooleanField(
        default=False, help_text="Import the good rows even if some rows are bad."
    )
    dry_run = serializers.BooleanField(default=False, help_text="Check and report only.")


class RowErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Line in the file; the header is line 1")
    field = serializers.CharField()
    message = serializers.CharField()


class ImportReportSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    good = serializers.IntegerField()
    errors = RowErrorSerializer(many=True)
    imported = serializers.BooleanField()
    tokens_created = serializers.IntegerField()
    groups_created = serializers.IntegerField()
    memberships_added = serializers.IntegerField()


class LocalListSerializer(serializers.ModelSerializer):
    entries = serializers.SerializerMethodField()

    class Meta:
        model = StationLocalList
        fields = [
            "station",
            "version",
            "entries",
            "state",
            "message",
            "max_entries",
            "per_message",
            "synced_at",
        ]

    def get_entries(self, held) -> int:
        return len(held.entries or {})
