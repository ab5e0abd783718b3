from django.db.models import QuerySet

from apps.core.scoping import Actor

from .models import AuditEntry


def audit_entry_list(*, actor: Actor) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.restrict(actor, "audit.view").select_related("site")
