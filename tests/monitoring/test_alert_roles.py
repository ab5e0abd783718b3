"""Who may acknowledge and resolve alerts among the built-in roles: the delegate who runs the
site day to day (and site admins, who hold everything); not viewers or fleet managers."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps

from apps.core.permissions import grants
from apps.roles.choices import BUILTIN_PERMISSIONS, BuiltinRole
from apps.roles.models import Role

migration = importlib.import_module("apps.roles.migrations.0004_builtin_roles_alerts")


@pytest.mark.parametrize(
    ("slug", "manage"),
    [
        (BuiltinRole.SITE_ADMIN, True),
        (BuiltinRole.DELEGATE_CONFIGURE, True),
        (BuiltinRole.DELEGATE_REPORTS, False),
        (BuiltinRole.VIEWER, False),
        (BuiltinRole.FLEET_MANAGER, False),
        (BuiltinRole.VALET, False),
        (BuiltinRole.DRIVER, False),
    ],
)
def test_built_in_roles_grant_alerts_manage_in_the_database(alpha, slug, manage):
    """The roles as stored in a tenant after the migrations, and the table in code."""
    stored = Role.objects.get(slug=slug, is_builtin=True).permissions
    assert grants(stored, "alerts.manage") is manage
    assert grants(BUILTIN_PERMISSIONS[slug], "alerts.manage") is manage


def test_the_migration_adds_the_grant_and_keeps_the_others(alpha):
    role = Role.objects.get(slug=BuiltinRole.DELEGATE_CONFIGURE, is_builtin=True)
    # A role as a tenant created before this migration had it, with a grant added by hand.
    role.permissions = ["sites.view", "stations.view", "power.view", "tokens.view"]
    role.save(update_fields=["permissions"])
    viewer_before = Role.objects.get(slug=BuiltinRole.VIEWER, is_builtin=True).permissions

    (operation,) = migration.Migration.operations
    operation.code(django_apps, None)
    operation.code(django_apps, None)  # twice: no duplicate

    role.refresh_from_db()
    assert role.permissions == [
        "sites.view",
        "stations.view",
        "power.view",
        "tokens.view",
        "alerts.manage",
    ]
    assert Role.objects.get(slug=BuiltinRole.VIEWER, is_builtin=True).permissions == viewer_before

    operation.reverse_code(django_apps, None)
    role.refresh_from_db()
    assert role.permissions == ["sites.view", "stations.view", "power.view", "tokens.view"]
