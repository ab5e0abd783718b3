"""Data migrations that give built-in roles more permissions.  Each migration names its own
grants (written out, so it keeps meaning the same thing when ``choices.BUILTIN_PERMISSIONS``
changes later); applying and reverting them is shared here.  Existing grants are kept."""

from __future__ import annotations

from functools import partial

from django.db import migrations


def _grant(apps, schema_editor, *, grants: dict[str, list[str]]) -> None:
    Role = apps.get_model("roles", "Role")
    for slug, codes in grants.items():
        for role in Role.objects.filter(slug=slug, is_builtin=True):
            missing = [code for code in codes if code not in role.permissions]
            if missing:
                role.permissions = [*role.permissions, *missing]
                role.save(update_fields=["permissions"])


def _revoke(apps, schema_editor, *, grants: dict[str, list[str]]) -> None:
    Role = apps.get_model("roles", "Role")
    for slug, codes in grants.items():
        for role in Role.objects.filter(slug=slug, is_builtin=True):
            role.permissions = [code for code in role.permissions if code not in codes]
            role.save(update_fields=["permissions"])


def grant_to_builtin_roles(grants: dict[str, list[str]]) -> migrations.RunPython:
    """The operation: ``{role slug: [permission, ...]}`` added, removed again on reverse."""
    return migrations.RunPython(partial(_grant, grants=grants), partial(_revoke, grants=grants))
