from rest_framework import serializers

from ..models import AuditEntry


class AuditEntrySerializer(serializers.ModelSerializer):
    site_name = serializers.CharField(
        source="site.name", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "occurred_at",
            "actor_kind",
            "actor_label",
            "user",
            "api_key",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
            "succeeded",
            "source",
            "ip",
            "site",
            "site_name",
        ]
