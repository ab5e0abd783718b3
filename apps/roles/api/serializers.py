from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
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


class RoleGrantInputSerializer(serializers.Serializer):
    """A role on all sites or on chosen sites.  Which roles, sites and permissions the caller
    may give is checked by the service (``delegation.grant_check``), as in the portal."""

    role = serializers.PrimaryKeyRelatedField(queryset=Role.objects.exclude(permissions=[]))
    all_sites = serializers.BooleanField(default=False)
    sites = serializers.ListField(
        child=ScopedPrimaryKeyRelatedField(permission="people.manage", queryset=Site.objects.all()),
        required=False,
        default=list,
    )

    def validate(self, attrs):
        if not attrs["all_sites"] and not attrs.get("sites"):
            raise serializers.ValidationError({"sites": [_("Choose the sites, or all sites.")]})
        return attrs


@extend_schema_field(OpenApiTypes.INT)
class ActivePersonField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        from apps.accounts.models import User

        return User.objects.filter(is_active=True)


class RoleAssignmentInputSerializer(RoleGrantInputSerializer):
    user = ActivePersonField()


class InvitationInputSerializer(RoleGrantInputSerializer):
    email = serializers.EmailField()
    full_name = serializers.CharField(max_length=200, required=False, default="")


class InvitationSerializer(serializers.Serializer):
    assignment = RoleAssignmentSerializer()
    created = serializers.BooleanField(help_text=_("Whether the person is new to this tenant."))
    emailed = serializers.BooleanField(
        help_text=_("Whether a link to choose a password was e-mailed.")
    )
