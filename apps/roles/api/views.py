from __future__ import annotations

from django.db import connection
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.viewsets import CreateMixin, ReadOnlyScopedViewSet

from .. import delegation, services
from ..models import ApiKey, Role, RoleAssignment
from .serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyInputSerializer,
    ApiKeySerializer,
    InvitationInputSerializer,
    InvitationSerializer,
    RoleAssignmentInputSerializer,
    RoleAssignmentSerializer,
    RoleSerializer,
)


class RoleViewSet(ReadOnlyScopedViewSet):
    """Roles: named lists of permission codes."""

    queryset = Role.objects.all()
    serializer_class = RoleSerializer
    filterset_fields = ["slug", "is_builtin"]
    view_permission = "people.view"


class RoleAssignmentViewSet(CreateMixin, ReadOnlyScopedViewSet):
    """Who holds which role, on all sites or on chosen sites.  Grant (POST), invite a person
    by e-mail (``invite/``) and revoke (DELETE) go through the portal's services
    (``apps/roles/delegation.py``): nobody grants more than they hold, nobody revokes their
    own role."""

    queryset = RoleAssignment.objects.select_related("user", "role", "granted_by").prefetch_related(
        "sites"
    )
    serializer_class = RoleAssignmentSerializer
    input_serializer_class = RoleAssignmentInputSerializer
    filterset_fields = {"user__email": ["exact"], "role__slug": ["exact"], "all_sites": ["exact"]}
    view_permission = "people.view"
    manage_permission = "people.manage"
    action_permissions = {"invite": "people.manage"}
    audit_name = "role"

    def create_service(self, data):
        return delegation.role_grant(granter=self.actor, **data)

    def create(self, request, *args, **kwargs):
        serializer = self.get_input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assignment = self.create_service(serializer.validated_data)
        self.audit("grant", assignment, **_grant_audit(assignment, serializer.validated_data))
        output = self.get_serializer(self.refetch(assignment))
        return Response(output.data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        assignment = self.get_object()
        fields = _grant_audit(assignment, {"all_sites": assignment.all_sites})
        fields["changes"]["sites"] = [site.name for site in assignment.sites.all()]
        delegation.role_assignment_revoke(granter=self.actor, assignment=assignment)
        self.audit(
            "revoke",
            None,
            object_type=RoleAssignment._meta.label_lower,
            object_id=assignment.pk,
            **fields,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=InvitationInputSerializer, responses={201: InvitationSerializer})
    @action(detail=False, methods=["post"])
    def invite(self, request):
        """Invite a person by e-mail: created if new, given the role, and e-mailed a link to
        choose a password (again, while they have none)."""
        serializer = InvitationInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        tenant = connection.tenant
        invitation = delegation.person_invite(
            granter=self.actor,
            portal_url=request.build_absolute_uri("/"),
            tenant_name=tenant.name,
            language=getattr(tenant, "language", ""),
            **data,
        )
        self.audit(
            "person.invite",
            invitation.assignment,
            **_grant_audit(invitation.assignment, data),
        )
        answer = {
            "assignment": self.refetch(invitation.assignment),
            "created": invitation.created,
            "emailed": invitation.emailed,
        }
        return Response(InvitationSerializer(answer).data, status=status.HTTP_201_CREATED)


def _grant_audit(assignment: RoleAssignment, data: dict) -> dict:
    """What the portal writes for a grant, invitation or revocation (apps/roles/views.py)."""
    return {
        "object_repr": f"{assignment.user.email}: {assignment.role.name}",
        "changes": {
            "role": assignment.role.slug,
            "all_sites": bool(data.get("all_sites")),
            "sites": [site.name for site in data.get("sites") or []],
        },
    }


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
