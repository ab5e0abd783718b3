from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..models import Partner, Push, RemoteCommand, RemoteToken
from ..services import versions_url


class PartnerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Partner
        fields = [
            "id",
            "name",
            "country_code",
            "party_id",
            "roles",
            "status",
            "versions_url",
            "version",
            "endpoints",
            "last_error",
            "created_at",
            "connected_at",
            "tokens_pulled_at",
        ]


class PartnerCreatedSerializer(PartnerSerializer):
    """An invitation: the token A to give the partner with our versions URL (shown once)."""

    token = serializers.CharField(
        source="incoming_token",
        read_only=True,
        help_text=_("Give it to the partner with our versions URL. Shown only in this answer."),
    )
    our_versions_url = serializers.SerializerMethodField()

    class Meta(PartnerSerializer.Meta):
        fields = [*PartnerSerializer.Meta.fields, "token", "our_versions_url"]

    def get_our_versions_url(self, partner) -> str:
        return versions_url()


class PartnerInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    versions_url = serializers.URLField(
        max_length=500,
        required=False,
        help_text=_("Their versions URL: we register with them (empty: we invite them)."),
    )
    token = serializers.CharField(
        max_length=128, required=False, help_text=_("The token they gave us (with versions_url).")
    )

    def validate(self, data):
        if bool(data.get("versions_url")) != bool(data.get("token")):
            raise serializers.ValidationError(_("Give both their versions URL and their token."))
        return data


class RemoteTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = RemoteToken
        fields = [
            "id",
            "partner",
            "country_code",
            "party_id",
            "uid",
            "token_type",
            "contract_id",
            "visual_number",
            "issuer",
            "group_id",
            "valid",
            "whitelist",
            "last_updated",
        ]


class PushSerializer(serializers.ModelSerializer):
    class Meta:
        model = Push
        fields = [
            "id",
            "partner",
            "module",
            "method",
            "path",
            "body",
            "status",
            "attempts",
            "next_attempt_at",
            "last_attempt_at",
            "response_status",
            "ocpi_status",
            "error",
            "created_at",
            "delivered_at",
        ]


class RemoteCommandSerializer(serializers.ModelSerializer):
    class Meta:
        model = RemoteCommand
        fields = [
            "id",
            "partner",
            "command",
            "body",
            "state",
            "result",
            "station_status",
            "created_at",
            "finished_at",
        ]
