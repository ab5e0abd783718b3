from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.viewsets import CreateMixin, ReadOnlyScopedViewSet

from .. import services
from ..models import ApiKey, Role, RoleAssignment
from .serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyInputSerializer,
    ApiKeySerializer,
    RoleAssignmentSerializer,
    RoleSerializer,
)


class RoleViewSet(ReadOnlyScopedViewSet):
    """Roles: named lists of permission codes."""

    queryset = Role.objects.all()
    serializer_class = RoleSerializer
    filterset_fields = ["slug", "is_builtin"]
    view_permission = "people.view"


class RoleAssignmentViewSet(ReadOnlyScopedViewSet):
    """Who holds which role, on all sites or on chosen sites."""

    queryset = RoleAssignment.objects.select_related("user", "role", "granted_by").prefetch_related(
        "sites"
    )
    serializer_class = RoleAssignmentSerializer
    filterset_fields = {"user__email": ["exact"], "role__slug": ["exact"], "all_sites": ["exact"]}
    view_permission = "people.view"


class ApiKeyViewSet(CreateMixin, ReadOnlyScopedViewSet):
    """API keys for integrators: hashed at rest, the secret is shown once at creation."""

    queryset = ApiKey.objects.select_related("created_by").prefetch_related("sites")
    serializer_class = ApiKeySerializer
    input_serializer_class = ApiKeyInputSerializer
    filterset_fields = ["all_sites"]
    view_permission = "api_keys.manage"
    manage_permission = "api_keys.manage"
    action_permissions = {"revoke": "api_keys.manage"}
    audit_name = "api_key"

    @extend_schema(responses={201: ApiKeyCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        key, raw = services.api_key_create(created_by=request.user, **data)
        self.audit(
            "create",
            key,
            changes={
                "permissions": key.permissions,
                "all_sites": key.all_sites,
                "sites": sorted(site.pk for site in data.get("sites", [])),
            },
        )
        key = self.refetch(key)
        key.key = raw
        return Response(ApiKeyCreatedSerializer(key).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ApiKeySerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke a key at once (it stays listed, with its revocation time)."""
        key = self.get_object()
        services.api_key_revoke(key=key)
        self.audit("revoke", key)
        return Response(ApiKeySerializer(self.refetch(key)).data)
