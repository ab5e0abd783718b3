"""Writes on tenants: create one (with its first site admin), keep the template schema."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django_tenants.utils import schema_exists, tenant_context

from apps.accounts.services import user_create
from apps.roles.services import role_assign, role_by_slug

from .models import Domain, StationIdentity, Tenant


def tenant_domain_for(slug: str) -> str:
    return f"{slug}.{settings.BASE_DOMAIN}"


def template_ensure() -> Tenant:
    """The migrated schema that every new tenant is cloned from (created once, slowly)."""
    template = Tenant.objects.filter(is_template=True).first()
    if template is not None and schema_exists(template.schema_name):
        return template
    if template is None:
        template = Tenant(
            schema_name=settings.TENANT_BASE_SCHEMA,
            slug="template",
            name="Template (not a customer)",
            is_template=True,
        )
        template.full_clean()
    # Saving creates and migrates the schema (no template exists yet to clone from).
    template.save()
    return template


@transaction.atomic
def tenant_create(
    *,
    name: str,
    slug: str,
    admin_email: str,
    admin_password: str | None,
    currency: str | None = None,
    timezone: str = "UTC",
    language: str = "en",
    domain: str | None = None,
) -> Tenant:
    """Create a tenant, its schema (cloned from the template), its domain and first site admin."""
    template_ensure()
    tenant = Tenant(
        name=name,
        slug=slug,
        schema_name=Tenant.schema_for_slug(slug),
        currency=currency or settings.DEFAULT_CURRENCY,
        timezone=timezone,
        language=language,
    )
    tenant.full_clean()
    tenant.save(verbosity=0)
    Domain.objects.create(tenant=tenant, domain=domain or tenant_domain_for(slug), is_primary=True)

    with tenant_context(tenant):
        # The first site admin is superuser of this tenant's schema only (its own Django admin).
        admin = user_create(
            email=admin_email, password=admin_password, is_staff=True, is_superuser=True
        )
        role_assign(user=admin, role=role_by_slug("site-admin"), all_sites=True, granted_by=None)
    return tenant


def station_identity_rehash(*, identity: str, old_hash: str, password: str) -> bool:
    """Store a station's (just verified) password in the fast scheme, replacing a slow legacy
    hash; only if the hash is still ``old_hash`` (a concurrent password change wins)."""
    entry = StationIdentity(identity=identity)
    entry.set_password(password)
    return bool(
        StationIdentity.objects.filter(identity=identity, password_hash=old_hash).update(
            password_hash=entry.password_hash
        )
    )
