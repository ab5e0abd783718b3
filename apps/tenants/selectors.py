from django.db.models import QuerySet

from .models import Tenant


def tenant_list() -> QuerySet[Tenant]:
    """Customer tenants (the template schema is not a customer)."""
    return Tenant.objects.exclude(schema_name="public").filter(is_template=False)


def tenant_by_slug(slug: str) -> Tenant | None:
    return tenant_list().filter(slug=slug).first()
