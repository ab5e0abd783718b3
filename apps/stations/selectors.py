from django.db.models import QuerySet

from apps.core.scoping import Actor

from .models import Site, StationSecuritySettings


def site_list(*, actor: Actor) -> QuerySet[Site]:
    return Site.objects.restrict(actor, "sites.view")


def station_cso_name() -> str:
    """The current tenant's CSO name for profile 3 certificates ("" when not set)."""
    return StationSecuritySettings.objects.values_list("cso_name", flat=True).first() or ""
