"""Serializer fields that only accept what the caller may touch."""

from __future__ import annotations

from rest_framework import serializers

from .permissions import actor_of


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key by id, limited to the rows where the caller holds ``permission``: an id
    outside the caller's scope is refused exactly like an id that does not exist."""

    def __init__(self, *, permission: str, **kwargs) -> None:
        self.permission = permission
        super().__init__(**kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        return queryset.restrict(actor_of(request), self.permission)
