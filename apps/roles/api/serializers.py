from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.api.fields import ScopedPrimaryKeyRelatedField
from apps.api.permissions import actor_of
from apps.core.permissions import PERMISSIONS, is_known
from apps.stations.models import Site

from ..models import ApiKey, Role, RoleAssignment


class RoleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Role
        fields = ["id", "slug", "name", "description", "permissions", "is_builtin"]


class RoleAssignmentSerializer(serializers.ModelSerializer):
    user_email = serializers.EmailField(source="user.email", read_only=True)
    role_slug = serializers.CharField(source="role.slug", read_only=True)
    granted_by_email = serializers.EmailField(
        source="granted_by.email", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = RoleAssignment
        fields = [
            "id",
            "user",
            "user_email",
            "role",
            "role_slug",
            "all_sites",
            "sites",
            "granted_by_email",
            "created_at",
        ]


class ApiKeySerializer(serializers.ModelSerializer):
    created_by_email = serializers.EmailField(source="created_by.email", read_only=True)
    is_usable = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "permissions",
            "all_sites",
            "sites",
            "created_by_email",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "is_usable",
        ]


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(
        read_only=True,
        help_text=_("The full key. Shown only in this answer: store it now."),
    )

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]


class ApiKeyInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    permissions = serializers.ListField(
        child=serializers.CharField(max_length=64),
        allow_empty=False,
        help_text=_(
            "Permission codes, e.g. ['sites.view', 'stations.view'] for a read-only key. "
            "A key never exceeds the permissions of the person who created it."
        ),
    )
    all_sites = serializers.BooleanField(default=False)
    sites = serializers.ListField(
        child=ScopedPrimaryKeyRelatedField(permission="sites.view", queryset=Site.objects.all()),
        required=False,
        default=list,
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True)

    def validate_permissions(self, codes: list[str]) -> list[str]:
        unknown = [code for code in codes if not is_known(code)]
        if unknown:
            raise serializers.ValidationError(
                _("Unknown permissions: %(codes)s") % {"codes": ", ".join(unknown)}
            )
        actor = actor_of(self.context.get("request"))
        lacking = [c for c in codes if c in PERMISSIONS and actor.scope_for(c).empty]
        if lacking:
            raise serializers.ValidationError(
                _("You do not hold: %(codes)s") % {"codes": ", ".join(lacking)}
            )
        return sorted(set(codes))

    def validate(self, attrs):
        if not attrs["all_sites"] and not attrs.get("sites"):
            raise serializers.ValidationError(_("Choose sites, or all sites."))
        return attrs
