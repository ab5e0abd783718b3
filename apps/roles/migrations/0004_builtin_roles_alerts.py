"""The delegated third party who runs a site day to day (``delegate-configure``) gains
``alerts.manage``: acknowledging and resolving its alerts is part of running it.  Viewers,
fleet managers, report recipients, valets and drivers do not; site admins already hold ``*``.

Written out here rather than read from ``choices.BUILTIN_PERMISSIONS`` so that the migration
keeps meaning the same thing when that table changes later; existing grants are kept."""

from django.db import migrations

GRANTS = {
    "delegate-configure": ["alerts.manage"],
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
    dependencies = [("roles", "0003_builtin_roles_power")]
    operations = [migrations.RunPython(grant, revoke)]
