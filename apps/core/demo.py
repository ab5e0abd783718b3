"""The demo tenant the run command prepares, with a sign-in printed on screen."""

from __future__ import annotations

import os

from django_tenants.utils import tenant_context

DEMO_SLUG = "demo"
DEMO_EMAIL = "admin@demo.chargegrid.local"


def demo_ensure() -> dict[str, str]:
    from apps.accounts.models import User
    from apps.accounts.services import user_set_password
    from apps.stations.models import Site
    from apps.stations.services import site_create
    from apps.tenants.selectors import tenant_by_slug
    from apps.tenants.services import tenant_create

    password = os.environ.get("CHARGEGRID_DEMO_PASSWORD", "chargegrid-demo")
    tenant = tenant_by_slug(DEMO_SLUG)
    if tenant is None:
        tenant = tenant_create(
            name="Demo Charging Network",
            slug=DEMO_SLUG,
            admin_email=DEMO_EMAIL,
            admin_password=password,
            timezone="America/Montreal",
            language="en",
        )
    with tenant_context(tenant):
        user_set_password(user=User.objects.get(email=DEMO_EMAIL), password=password)
        if not Site.objects.exists():
            site_create(
                name="Montréal — Old Port garage",
                address="333 Rue de la Commune O",
                city="Montréal",
                region="QC",
                postal_code="H2Y 2E2",
                country="CA",
                latitude="45.502700",
                longitude="-73.554000",
                timezone="America/Montreal",
            )
            site_create(
                name="Québec — City Hall lot",
                address="2 Rue des Jardins",
                city="Québec",
                region="QC",
                postal_code="G1R 4S9",
                country="CA",
                latitude="46.813900",
                longitude="-71.208000",
                timezone="America/Toronto",
            )
    return {
        "slug": tenant.slug,
        "domain": tenant.get_primary_domain().domain,
        "email": DEMO_EMAIL,
        "password": password,
    }
