"""The delegated third party who runs a site day to day (``delegate-configure``) gains
``alerts.manage``: acknowledging and resolving its alerts is part of running it.  Viewers,
fleet managers, report recipients, valets and drivers do not; site admins already hold ``*``.

Written out here rather than read from ``choices.BUILTIN_PERMISSIONS`` so that the migration
keeps meaning the same thing when that table changes later; existing grants are kept
(apps/roles/builtin_grants.py)."""

from django.db import migrations

from apps.roles.builtin_grants import grant_to_builtin_roles

GRANTS = {
    "delegate-configure": ["alerts.manage"],
}


class Migration(migrations.Migration):
    dependencies = [("roles", "0003_builtin_roles_power")]
    operations = [grant_to_builtin_roles(GRANTS)]
