"""Built-in roles gain ``power.view`` (site admins already hold ``*``, power.manage included).

Written out here rather than read from ``choices.BUILTIN_PERMISSIONS`` so that the migration
keeps meaning the same thing when that table changes later; existing grants are kept."""

from django.db import migrations

GRANTS = {
    "delegate-configure": ["power.view"],
    "delegate-reports": ["power.view"],
    "viewer": ["power.view"],
    "fleet-manager": ["power.view"],
}


def grant(apps, schema_editor):
    Role = apps.get_model("roles", "Role")
    for slug, codes in GRANTS.items():
        role = Role.objects.filter(slug=slug, is_builtin=True).first()
        if role is None:
            continue
        missing = [code for code in codes if code not in role.permissions]
        if missing:
            role.permissions = [*role.permissions, *missing]
            role.save(update_fields=["permissions"])


def revoke(apps, schema_editor):
    Role = apps.get_model("roles", "Role")
    for slug, codes in GRANTS.items():
        for role in Role.objects.filter(slug=slug, is_builtin=True):
            role.permissions = [code for code in role.permissions if code not in codes]
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [("roles", "0002_builtin_roles")]
    operations = [migrations.RunPython(grant, revoke)]
