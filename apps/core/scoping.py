"""The one scoping path: every queryset a person or an API key sees goes through ``restrict``.

Schemas already separate tenants.  Inside a tenant an *actor* (a signed-in user, an API key,
the system itself) holds permissions, each on all sites or on a set of sites.  A model that
belongs to a site names the lookup path to it in ``scope_site_path`` ("pk" for Site itself,
"site" for a Station, "station__site" for a Connector...).  A model with no site (people, roles,
keys) is visible only to an actor that holds the permission on all sites.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from django.db import models


@dataclass(frozen=True)
class Scope:
    all_sites: bool = False
    site_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def empty(self) -> bool:
        return not self.all_sites and not self.site_ids

    def union(self, other: Scope) -> Scope:
        if self.all_sites or other.all_sites:
            return Scope(all_sites=True)
        return Scope(site_ids=self.site_ids | other.site_ids)

    def intersection(self, other: Scope) -> Scope:
        if self.all_sites:
            return other
        if other.all_sites:
            return self
        return Scope(site_ids=self.site_ids & other.site_ids)

    def covers_site(self, site_id: int | None) -> bool:
        return self.all_sites or (site_id is not None and site_id in self.site_ids)


NOTHING = Scope()
EVERYTHING = Scope(all_sites=True)


class Actor(Protocol):
    """Who is acting: what ``scope_for`` answers decides what they see and may do."""

    kind: str  # "user", "api_key" or "system"
    label: str

    def scope_for(self, permission: str) -> Scope: ...


class SystemActor:
    """The platform itself (Celery tasks, OCPP handlers): sees everything in its tenant."""

    kind = "system"
    label = "system"

    def scope_for(self, permission: str) -> Scope:
        return EVERYTHING


class AnonymousActor:
    kind = "anonymous"
    label = "anonymous"

    def scope_for(self, permission: str) -> Scope:
        return NOTHING


SYSTEM = SystemActor()
ANONYMOUS = AnonymousActor()


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, actor: Actor, permission: str) -> RestrictedQuerySet:
        scope = actor.scope_for(permission)
        if scope.all_sites:
            return self
        path = getattr(self.model, "scope_site_path", None)
        if path is None or not scope.site_ids:
            return self.none()
        return self.filter(**{f"{path}__in": scope.site_ids})


class RestrictedManager(models.Manager.from_queryset(RestrictedQuerySet)):
    pass
