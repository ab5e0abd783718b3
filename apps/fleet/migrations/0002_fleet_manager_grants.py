"""The built-in fleet-manager role gains the fleet pages and API (view and manage, on the sites
it is assigned, narrowed to the fleets that name them as managers: it holds no ``fleet.all``);
site admins already hold ``*``.  Written out (apps/roles/builtin_grants.py)."""

from django.db import migrations

from apps.roles.builtin_grants import grant_to_builtin_roles

GRANTS = {"fleet-manager": ["fleet.view", "fleet.manage"]}


class Migration(migrations.Migration):
    dependencies = [("fleet", "0001_initial"), ("roles", "0002_builtin_roles")]
    operations = [grant_to_builtin_roles(GRANTS)]
