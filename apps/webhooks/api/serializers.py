from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.api.fields import ScopedPrimaryKeyRelatedField
from apps.stations.models import Site

from ..choices import WebhookEvent
from ..models import Webhook, WebhookDelivery


class WebhookSerializer(serializers.ModelSerializer):
    class Meta:
        model = Webhook
        fields = ["id", "name", "url", "events", "sites", "is_active", "created_at"]


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True, help_text=_("Signs every delivery. Shown only in this answer.")
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


class WebhookInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    url = serializers.URLField(max_length=500, help_text=_("http(s) endpoint that receives POSTs"))
    events = serializers.ListField(
        child=serializers.ChoiceField(
            choices=[e for e in WebhookEvent.choices if e[0] != WebhookEvent.PING]
        ),
        allow_empty=False,
    )
    sites = serializers.ListField(
        child=ScopedPrimaryKeyRelatedField(permission="sites.view", queryset=Site.objects.all()),
        required=False,
        help_text=_("Only events of these sites (empty: all sites)"),
    )
    is_active = serializers.BooleanField(default=True)


class WebhookSecretSerializer(serializers.Serializer):
    secret = serializers.CharField()


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "uuid",
            "webhook",
            "event",
            "payload",
            "status",
            "attempts",
            "next_attempt_at",
            "last_attempt_at",
            "response_status",
            "response_body",
            "error",
            "duration_ms",
            "created_at",
            "delivered_at",
        ]
