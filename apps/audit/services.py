"""Writes on the audit log.  Every write and remote command of the portal and the API calls
``audit_record`` (or ``audit_record_for_request`` from a view) once."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction

from apps.core.scoping import Actor

from .choices import ActorKind, AuditSource
from .models import AuditEntry


def site_of(obj: models.Model | None):
    """The site an object belongs to, following its model's ``scope_site_path``."""
    if obj is None:
        return None
    path = getattr(type(obj), "scope_site_path", None)
    if path is None:
        return None
    if path == "pk":
        return obj
    target: Any = obj
    for part in path.split("__"):
        target = getattr(target, part, None)
        if target is None:
            return None
    return target


def client_ip(request) -> str | None:
    """The caller's address as the reverse proxy or the server saw it."""
    return request.META.get("REMOTE_ADDR") or None


def source_of(request) -> str:
    django_request = getattr(request, "_request", request)
    return AuditSource.API if django_request.path.startswith("/api/") else AuditSource.PORTAL


@transaction.atomic
def audit_record(
    *,
    actor: Actor,
    action: str,
    source: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    changes: dict | None = None,
    succeeded: bool = True,
    ip: str | None = None,
    site=None,
) -> AuditEntry:
    """Write one entry.  ``obj`` fills type, id, representation and site unless given."""
    kind = getattr(actor, "kind", ActorKind.ANONYMOUS)
    user = getattr(actor, "user", None)
    api_key = getattr(actor, "key", None)
    if api_key is not None and user is None:
        user = api_key.created_by
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)
        site = site or site_of(obj)
    entry = AuditEntry(
        actor_kind=kind,
        actor_label=str(getattr(actor, "label", kind))[:254],
        user=user,
        api_key=api_key,
        action=action,
        object_type=object_type,
        object_id=str(object_id or ""),
        object_repr=object_repr[:200],
        changes=changes or {},
        succeeded=succeeded,
        source=source,
        ip=ip,
        site=site,
    )
    entry.full_clean(exclude=["user", "api_key", "site"])
    entry.save()
    return entry


@transaction.atomic
def audit_complete(*, entry_id: int, changes: dict, succeeded: bool | None = None) -> AuditEntry:
    """Add to an entry what became known after it was written: a remote command's entry is
    written when the command is sent and completed with its outcome (and, for a remote start,
    the session), even when whoever sent it has gone.  Keys of ``changes`` replace the entry's
    own; nothing else about the entry changes."""
    entry = AuditEntry.objects.select_for_update().get(pk=entry_id)
    entry.changes = {**entry.changes, **changes}
    fields = ["changes"]
    if succeeded is not None:
        entry.succeeded = succeeded
        fields.append("succeeded")
    entry.save(update_fields=fields)
    return entry


def audit_record_for_request(request, *, action: str, **fields) -> AuditEntry:
    """``audit_record`` with the actor, source (portal or API) and address taken from a request."""
    return audit_record(
        actor=request.actor,
        action=action,
        source=source_of(request),
        ip=client_ip(request),
        **fields,
    )


def changes_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for the fields whose value changed."""
    return {
        name: [before.get(name), value]
        for name, value in after.items()
        if before.get(name) != value
    }
