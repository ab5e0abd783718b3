from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.accounts.models import User
from apps.api.fields import ScopedPrimaryKeyRelatedField
from apps.charging.models import ChargingSession
from apps.stations.models import Station

from .. import links
from ..choices import CaseCategory, CasePriority, CaseStatus, Queue, StationAction
from ..models import CannedAnswer, Case, CaseAttachment, CaseMessage, SupportSettings


class CaseSerializer(serializers.ModelSerializer):
    reference = serializers.SerializerMethodField()
    sla_missed = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "reference",
            "site",
            "station",
            "session",
            "receipt_number",
            "requester_kind",
            "requester_name",
            "requester_email",
            "language",
            "subject",
            "category",
            "priority",
            "status",
            "queue",
            "source",
            "assignee",
            "opened_at",
            "first_response_due_at",
            "first_responded_at",
            "resolution_due_at",
            "waiting_since",
            "paused_minutes",
            "resolved_at",
            "closed_at",
            "sla_missed",
            "created_at",
            "updated_at",
        ]

    def get_reference(self, case) -> str:
        return links.reference(case)

    def get_sla_missed(self, case) -> bool:
        return bool(case.first_response_breach_at or case.resolution_breach_at)


class CaseCreateSerializer(serializers.Serializer):
    """A station manager's case (the caller is the requester)."""

    subject = serializers.CharField(max_length=200)
    category = serializers.ChoiceField(choices=CaseCategory.choices)
    priority = serializers.ChoiceField(choices=CasePriority.choices, default=CasePriority.NORMAL)
    description = serializers.CharField(max_length=20000)
    station = ScopedPrimaryKeyRelatedField(
        permission="support.open", queryset=Station.objects.all(), required=False, allow_null=True
    )
    session = ScopedPrimaryKeyRelatedField(
        permission="support.open",
        queryset=ChargingSession.objects.all(),
        required=False,
        allow_null=True,
    )
    receipt_number = serializers.CharField(max_length=64, required=False, allow_blank=True)


class CaseUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[c for c in CaseStatus.choices if c[0] != CaseStatus.UNVERIFIED], required=False
    )
    priority = serializers.ChoiceField(choices=CasePriority.choices, required=False)
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    queue = serializers.ChoiceField(choices=Queue.choices, required=False)


class CaseAttachmentSerializer(serializers.ModelSerializer):
    """A file's description; the file itself is served by the portal's case page."""

    class Meta:
        model = CaseAttachment
        fields = ["id", "name", "content_type", "size", "created_at"]


class CaseMessageSerializer(serializers.ModelSerializer):
    attachments = CaseAttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = CaseMessage
        fields = [
            "id",
            "case",
            "author_kind",
            "author_user",
            "author_label",
            "body",
            "internal",
            "source",
            "attachments",
            "created_at",
        ]


class ReplySerializer(serializers.Serializer):
    body = serializers.CharField(max_length=20000)
    internal = serializers.BooleanField(default=False)
    then = serializers.ChoiceField(
        choices=[CaseStatus.WAITING, CaseStatus.RESOLVED, CaseStatus.CLOSED],
        required=False,
        help_text=_("A status to set after the message"),
    )


class FollowupSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=20000)


class StationCommandSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=StationAction.choices)


class StationCommandResultSerializer(serializers.Serializer):
    status = serializers.CharField()
    ok = serializers.BooleanField()
    message = serializers.CharField()
    response = serializers.JSONField(allow_null=True)


class CannedAnswerSerializer(serializers.ModelSerializer):
    language = serializers.ChoiceField(
        choices=settings.LANGUAGES, required=False, allow_blank=True, default=""
    )

    class Meta:
        model = CannedAnswer
        fields = ["id", "title", "body", "language", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class SupportSettingsSerializer(serializers.ModelSerializer):
    business_days = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6), allow_empty=False
    )

    class Meta:
        model = SupportSettings
        fields = [
            "id",
            "business_opens",
            "business_closes",
            "business_timezone",
            "business_days",
            "first_response_minutes",
            "resolution_minutes",
            "team_email",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]
