"""Built-in roles gain ``power.view`` (site admins already hold ``*``, power.manage included).

Written out here rather than read from ``choices.BUILTIN_PERMISSIONS`` so that the migration
keeps meaning the same thing when that table changes later; existing grants are kept
(apps/roles/builtin_grants.py)."""

from django.db import migrations

from apps.roles.builtin_grants import grant_to_builtin_roles

GRANTS = {
    "delegate-configure": ["power.view"],
    "delegate-reports": ["power.view"],
    "viewer": ["power.view"],
    "fleet-manager": ["power.view"],
}


class Migration(migrations.Migration):
    dependencies = [("roles", "0002_builtin_roles")]
    operations = [grant_to_builtin_roles(GRANTS)]
