"""Delegates who configure a site's stations also follow its support cases: they see and
answer the site's cases and ask the platform for help.  Site admins already hold ``*``.
Written out (apps/roles/builtin_grants.py): it keeps meaning the same thing later."""

from django.db import migrations

from apps.roles.builtin_grants import grant_to_builtin_roles

GRANTS = {"delegate-configure": ["support.view", "support.open", "support.answer"]}


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial"), ("roles", "0002_builtin_roles")]
    operations = [grant_to_builtin_roles(GRANTS)]
