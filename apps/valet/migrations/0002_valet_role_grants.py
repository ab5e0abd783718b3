"""The built-in valet role gains the valet board (view and act); site admins already hold
``*``.  Written out (apps/roles/builtin_grants.py): it keeps meaning the same thing later."""

from django.db import migrations

from apps.roles.builtin_grants import grant_to_builtin_roles

GRANTS = {"valet": ["valet.view", "valet.act"]}


class Migration(migrations.Migration):
    dependencies = [("valet", "0001_initial"), ("roles", "0002_builtin_roles")]
    operations = [grant_to_builtin_roles(GRANTS)]
