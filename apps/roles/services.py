"""Writes: grant and revoke roles, create and revoke API keys."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from apps.stations.models import Site

from .models import ApiKey, Role, RoleAssignment
from .selectors import api_key_hash


def role_by_slug(slug: str) -> Role:
    return Role.objects.get(slug=slug)


@transaction.atomic
def role_assign(
    *, user, role: Role, all_sites: bool = False, sites: Iterable[Site] = (), granted_by=None
) -> RoleAssignment:
    """Give ``user`` the role on all sites or on ``sites`` (added to what they already had)."""
    assignment, _ = RoleAssignment.objects.get_or_create(
        user=user, role=role, defaults={"all_sites": all_sites, "granted_by": granted_by}
    )
    if all_sites and not assignment.all_sites:
        assignment.all_sites = True
        assignment.save(update_fields=["all_sites"])
    site_list = list(sites)
    if site_list:
        assignment.sites.add(*site_list)
    return assignment


@transaction.atomic
def role_revoke(*, user, role: Role) -> None:
    RoleAssignment.objects.filter(user=user, role=role).delete()


@transaction.atomic
def api_key_create(
    *,
    name: str,
    created_by,
    permissions: list[str],
    all_sites: bool = False,
    sites: Iterable[Site] = (),
    expires_at=None,
) -> tuple[ApiKey, str]:
    """Create a key; returns it and its secret text, which is never shown again."""
    prefix = secrets.token_hex(4)
    raw = f"cg_{prefix}_{secrets.token_urlsafe(32).replace('_', '-')}"
    key = ApiKey(
        name=name,
        prefix=prefix,
        key_hash=api_key_hash(raw),
        permissions=permissions,
        all_sites=all_sites,
        created_by=created_by,
        expires_at=expires_at,
    )
    key.full_clean()
    key.save()
    site_list = list(sites)
    if site_list:
        key.sites.add(*site_list)
    return key, raw


def api_key_revoke(*, key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
