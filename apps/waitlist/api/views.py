from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.viewsets import CreateMixin, ReadOnlyScopedViewSet, ScopedModelViewSet

from .. import services
from ..choices import JoinedVia
from ..filtersets import WaitlistEntryFilterSet, WaitlistGroupFilterSet
from ..models import WaitlistEntry, WaitlistGroup
from .serializers import (
    WaitlistEntrySerializer,
    WaitlistGroupCreateSerializer,
    WaitlistGroupSerializer,
    WaitlistGroupUpdateSerializer,
    WaitlistJoinSerializer,
)


class WaitlistGroupViewSet(ScopedModelViewSet):
    """Queues: a group of a site's stations and its policy (hold time, no-shows, hours)."""

    queryset = WaitlistGroup.objects.select_related("site").prefetch_related("stations")
    serializer_class = WaitlistGroupSerializer
    filterset_class = WaitlistGroupFilterSet
    view_permission = "waitlist.view"
    manage_permission = "waitlist.manage"
    audit_name = "waitlist_group"

    @classmethod
    def input_serializer_for(cls, action):
        if action == "create":
            return WaitlistGroupCreateSerializer
        if action in ("update", "partial_update"):
            return WaitlistGroupUpdateSerializer
        return None

    def create_service(self, data):
        return _mapped(services.group_create, **data)

    def update_service(self, instance, data):
        return _mapped(services.group_update, group=instance, **data)

    def delete_service(self, instance):
        services.group_delete(group=instance)


def _mapped(service, **kwargs):
    try:
        return service(**kwargs)
    except (ValidationError, services.WaitlistError) as error:
        messages = error.messages if isinstance(error, ValidationError) else [str(error)]
        raise serializers.ValidationError(messages) from error


class WaitlistEntryViewSet(CreateMixin, ReadOnlyScopedViewSet):
    """Drivers in the queues: their place, expected wait and hold.  POST adds a driver (a
    token) to a queue; ``/leave/`` takes them out (cancelling a hold)."""

    queryset = WaitlistEntry.objects.select_related("group__site")
    serializer_class = WaitlistEntrySerializer
    filterset_class = WaitlistEntryFilterSet
    view_permission = "waitlist.view"
    manage_permission = "waitlist.manage"
    action_permissions = {"leave": "waitlist.manage"}
    audit_name = "waitlist_entry"

    @classmethod
    def input_serializer_for(cls, action):
        return WaitlistJoinSerializer if action == "create" else None

    def create_service(self, data):
        return _mapped(services.entry_join, via=JoinedVia.API, **data)

    @extend_schema(request=None, responses=WaitlistEntrySerializer)
    @action(detail=True, methods=["post"])
    def leave(self, request, pk=None):
        entry = services.entry_leave(entry=self.get_object())
        self.audit("leave", entry)
        return Response(WaitlistEntrySerializer(entry).data, status=status.HTTP_200_OK)
