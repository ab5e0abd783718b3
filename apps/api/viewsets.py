"""The base viewset of every API endpoint: authentication, the permission each action needs,
``restrict()`` applied once here (never by hand in a view), filters, pagination, the error format,
and an audit entry for every write.

A viewset declares::

    queryset = Site.objects.all()
    view_permission = "sites.view"        # list, retrieve and other safe methods
    manage_permission = "sites.manage"    # create, update, partial_update, destroy
    action_permissions = {"reset": "stations.command"}   # extra actions
    serializer_class = SiteSerializer               # what is answered
    input_serializer_class = SiteInputSerializer    # what is accepted (when it differs)

and, for writes, the services to call: ``create_service(data)``, ``update_service(obj, data)``,
``delete_service(obj)``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.audit.services import audit_record_for_request, site_of

from .authentication import ApiKeyAuthentication, SessionAuthentication
from .exceptions import api_exception_handler
from .pagination import ApiPagination
from .permissions import HoldsPermission, actor_of
from .schema import ScopedAutoSchema
from .throttles import AddressRateThrottle

READ_ACTIONS = {"list", "retrieve", "metadata"}
WRITE_ACTIONS = {"create", "update", "partial_update", "destroy"}


class ApiViewMixin:
    """What every API view shares, whatever its base class."""

    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]
    permission_classes = [HoldsPermission]
    schema = ScopedAutoSchema()
    # A view that is not a ScopedViewSet names its one permission here (None: signed in).
    permission: str | None = None

    @classmethod
    def permission_for(cls, action: str | None, method: str) -> str | None:
        return cls.permission

    def required_permission(self) -> str | None:
        return self.permission_for(getattr(self, "action", None), self.request.method)

    def get_exception_handler(self):
        return api_exception_handler

    def perform_authentication(self, request) -> None:
        # The address limit comes before authentication, so that failed keys count too; the
        # per-caller limit (DEFAULT_THROTTLE_CLASSES) comes after, once the caller is known.
        limit = AddressRateThrottle()
        if not limit.allow_request(request, self):
            self.throttled(request, limit.wait())
        super().perform_authentication(request)

    @property
    def actor(self):
        return actor_of(self.request)


class ApiView(ApiViewMixin, APIView):
    pass


class ScopedViewSet(ApiViewMixin, viewsets.GenericViewSet):
    view_permission: str = ""
    manage_permission: str | None = None
    action_permissions: dict[str, str | None] = {}
    input_serializer_class = None
    filter_backends = [DjangoFilterBackend]
    pagination_class = ApiPagination
    lookup_value_regex = r"\d+"
    audit_name: str | None = None  # "site" → "site.create", "site.update"...

    @classmethod
    def permission_for(cls, action: str | None, method: str) -> str | None:
        if action in cls.action_permissions:
            return cls.action_permissions[action]
        if action in READ_ACTIONS or action is None:
            # (no action: a method the route does not serve, answered 405 once allowed in)
            return cls.view_permission
        if action in WRITE_ACTIONS and cls.manage_permission:
            return cls.manage_permission
        raise ImproperlyConfigured(f"{cls.__name__} declares no permission for {action!r}")

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset.restrict(self.actor, self.required_permission())

    # --- serializers --------------------------------------------------------------------------
    @classmethod
    def input_serializer_for(cls, action: str | None):
        if action in ("create", "update", "partial_update"):
            return cls.input_serializer_class
        return None

    def get_input_serializer(self, *args, **kwargs):
        serializer_class = self.input_serializer_for(self.action) or self.get_serializer_class()
        kwargs.setdefault("context", self.get_serializer_context())
        return serializer_class(*args, **kwargs)

    def refetch(self, instance: models.Model) -> models.Model:
        """The instance as the list/detail queryset loads it (related rows): unrestricted,
        since the caller has just written it."""
        return super().get_queryset().get(pk=instance.pk)

    def audit(self, verb: str, obj: models.Model | None, **fields):
        # "update" → "<audit_name>.update"; a dotted verb ("session.remote_start") is kept
        name = self.audit_name or self.queryset.model._meta.model_name
        action = verb if "." in verb else f"{name}.{verb}"
        return audit_record_for_request(self.request, action=action, obj=obj, **fields)


class ReadOnlyScopedViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    pass


class CreateMixin:
    """POST: input serializer → ``create_service(data)`` → audit → output serializer."""

    def create_service(self, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def create(self, request, *args, **kwargs):
        serializer = self.get_input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.create_service(serializer.validated_data)
        self.audit("create", instance, changes=redacted(jsonable(serializer.validated_data)))
        output = self.get_serializer(self.refetch(instance))
        return Response(output.data, status=status.HTTP_201_CREATED)


class UpdateMixin:
    """PUT/PATCH: input serializer → ``update_service(obj, data)`` → audit (old/new values)."""

    def update_service(self, instance: models.Model, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def update(self, request, *args, partial: bool = False, **kwargs):
        instance = self.get_object()
        serializer = self.get_input_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        before = {name: jsonable(value_of(instance, name)) for name in data}
        instance = self.update_service(instance, data)
        after = {name: jsonable(value) for name, value in data.items()}
        changes = {
            name: [before.get(name), value]
            for name, value in after.items()
            if before.get(name) != value
        }
        self.audit("update", instance, changes=redacted(changes))
        return Response(self.get_serializer(self.refetch(instance)).data)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)


class DestroyMixin:
    """DELETE: ``delete_service(obj)`` → audit."""

    def delete_service(self, instance: models.Model) -> None:
        raise NotImplementedError

    def destroy(self, request, *args, **kwargs):
        instance = self.get_object()
        site = _site_of(instance)
        pk, label = instance.pk, str(instance)
        if site is instance:  # deleting a site: the entry cannot point at it any more
            site = None
        self.delete_service(instance)
        self.audit(
            "delete",
            None,
            object_type=instance._meta.label_lower,
            object_id=pk,
            object_repr=label,
            site=site,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ScopedModelViewSet(CreateMixin, UpdateMixin, DestroyMixin, ReadOnlyScopedViewSet):
    pass


SECRET_FIELDS = {"password", "secret"}
# What the audit log's JSON encoder (DjangoJSONEncoder) writes as is.
JSON_SCALARS = (str, int, float, bool, Decimal, dt.date, dt.time, dt.timedelta, uuid.UUID)


def redacted(data: dict[str, Any]) -> dict[str, Any]:
    """Secrets never reach the audit log: only that they were set."""
    return {key: ("(set)" if key in SECRET_FIELDS else value) for key, value in data.items()}


def _site_of(obj):
    return site_of(obj)


def value_of(instance: models.Model, name: str) -> Any:
    value = getattr(instance, name, None)
    if hasattr(value, "all") and callable(value.all):  # a many-to-many manager
        return sorted(item.pk for item in value.all())
    return value


def jsonable(value: Any) -> Any:
    """Model instances as their ids, collections recursively; the audit log stores JSON."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(item) for item in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if hasattr(value, "all") and callable(value.all):
        return sorted(item.pk for item in value.all())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if value is None or isinstance(value, JSON_SCALARS):
        return value
    return str(value)
