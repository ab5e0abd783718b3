from django.db.models import QuerySet

from apps.core.scoping import Actor

from .models import Site


def site_list(*, actor: Actor) -> QuerySet[Site]:
    return Site.objects.restrict(actor, "sites.view")
