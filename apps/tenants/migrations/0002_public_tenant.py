from django.conf import settings
from django.db import migrations


def create_public_tenant(apps, schema_editor):
    """The public schema serves the landing page and operator admin at the base domain."""
    Tenant = apps.get_model("tenants", "Tenant")
    Domain = apps.get_model("tenants", "Domain")
    public, _ = Tenant.objects.get_or_create(
        schema_name="public", defaults={"name": "chargegrid", "slug": "public"}
    )
    Domain.objects.get_or_create(
        domain=settings.BASE_DOMAIN, defaults={"tenant": public, "is_primary": True}
    )


class Migration(migrations.Migration):
    dependencies = [("tenants", "0001_initial")]
    operations = [migrations.RunPython(create_public_tenant, migrations.RunPython.noop)]
