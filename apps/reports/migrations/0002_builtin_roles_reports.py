"""Built-in roles that look at a site's use gain ``reports.view`` (site admins hold ``*``).
Delegated third parties (installers, reporting partners) see their own sites' reports."""

from django.db import migrations

from apps.roles.builtin_grants import grant_to_builtin_roles

GRANTS = {
    "delegate-configure": ["reports.view"],
    "delegate-reports": ["reports.view"],
    "viewer": ["reports.view"],
    "fleet-manager": ["reports.view"],
}


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial"), ("roles", "0004_builtin_roles_alerts")]
    operations = [grant_to_builtin_roles(GRANTS)]
