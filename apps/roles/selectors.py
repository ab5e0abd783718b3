"""Reads: who may do what, where."""

from __future__ import annotations

import hashlib
import hmac

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from apps.core.permissions import grants
from apps.core.scoping import EVERYTHING, NOTHING, Actor, Scope

from .models import ApiKey, RoleAssignment


class UserActor:
    """A signed-in person; their scope is the union of their role assignments."""

    kind = "user"

    def __init__(self, user) -> None:
        self.user = user
        self.label = user.email
        self._grants: list[tuple[list[str], Scope]] | None = None

    def _load(self) -> list[tuple[list[str], Scope]]:
        if self._grants is None:
            assignments = (
                RoleAssignment.objects.filter(user=self.user)
                .select_related("role")
                .prefetch_related("sites")
            )
            self._grants = [
                (
                    list(a.role.permissions),
                    EVERYTHING
                    if a.all_sites
                    else Scope(site_ids=frozenset(s.pk for s in a.sites.all())),
                )
                for a in assignments
            ]
        return self._grants

    def scope_for(self, permission: str) -> Scope:
        if not self.user.is_active:
            return NOTHING
        if self.user.is_superuser:
            return EVERYTHING
        scope = NOTHING
        for codes, where in self._load():
            if grants(codes, permission):
                scope = scope.union(where)
        return scope


class ApiKeyActor:
    """An integrator's key: its own permissions and sites, never more than its creator has."""

    kind = "api_key"

    def __init__(self, key: ApiKey) -> None:
        self.key = key
        self.label = f"api key {key.prefix}"
        self._creator = UserActor(key.created_by)
        self._sites = (
            frozenset(key.sites.values_list("pk", flat=True)) if not key.all_sites else None
        )

    def scope_for(self, permission: str) -> Scope:
        if not self.key.is_usable or not grants(self.key.permissions, permission):
            return NOTHING
        own = EVERYTHING if self._sites is None else Scope(site_ids=self._sites)
        return own.intersection(self._creator.scope_for(permission))


def api_key_hash(secret: str) -> str:
    # Keys are 256-bit random: a fast hash is enough (nothing to brute-force).
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_lookup(raw: str) -> ApiKey | None:
    """Find a usable key from its full text ``cg_<prefix>_<secret>``."""
    parts = raw.split("_")
    if len(parts) != 3 or parts[0] != "cg":
        return None
    key = ApiKey.objects.select_related("created_by").filter(prefix=parts[1]).first()
    if key is None or not key.is_usable:
        return None
    if not hmac.compare_digest(key.key_hash, api_key_hash(raw)):
        return None
    return key


def role_assignment_list(*, actor: Actor) -> QuerySet[RoleAssignment]:
    return (
        RoleAssignment.objects.restrict(actor, "people.view")
        .select_related("user", "role", "granted_by")
        .prefetch_related("sites")
    )


def people_search(*, actor: Actor, query: str):
    """The people the actor may see (their role assignments pass ``people.view``) whose e-mail
    or name contains ``query``, or whose number it is; each once, by e-mail."""
    query = query.strip()
    visible = RoleAssignment.objects.restrict(actor, "people.view").values("user_id")
    matches = Q(email__icontains=query) | Q(full_name__icontains=query)
    if query.isdigit():
        matches |= Q(pk=int(query))
    return (
        get_user_model()
        .objects.filter(pk__in=visible)
        .filter(matches)
        .prefetch_related("role_assignments__role")
        .order_by("email")
    )
