from django.db import migrations

from apps.roles.choices import BUILTIN_PERMISSIONS, BuiltinRole


def create_builtin_roles(apps, schema_editor):
    Role = apps.get_model("roles", "Role")
    for slug, permissions in BUILTIN_PERMISSIONS.items():
        Role.objects.update_or_create(
            slug=slug,
            defaults={
                "name": str(BuiltinRole(slug).label),
                "permissions": permissions,
                "is_builtin": True,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("roles", "0001_initial")]
    operations = [migrations.RunPython(create_builtin_roles, migrations.RunPython.noop)]
