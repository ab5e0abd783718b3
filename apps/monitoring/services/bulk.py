"""Bulk commands: one command to every station of a filtered list, with progress.

``bulk_command_start`` records the job and one item per station the person may command, and
queues ``monitoring.bulk_command_run`` after commit.  The task claims the job (one
conditional update: a job runs once, however often it is queued), then sends the command
station by station through the OCPP command service, as the person who started it (their
permission on each station's site is checked again, and each command is audited), and
publishes each station's outcome on the live feed (``kind`` "bulk_command")."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from apps.audit.choices import AuditSource
from apps.core.live import publish_live
from apps.ocpp import commands
from apps.ocpp.commands import CommandError, Requester
from apps.roles.selectors import UserActor
from apps.stations.models import Station

from ..models import BulkCommand, BulkCommandItem

C = BulkCommand.Command
# What a person needs on a station's site to send each command.
BULK_PERMISSIONS = {
    C.RESET: "stations.command",
    C.AVAILABILITY: "stations.command",
    C.CONFIGURATION: "stations.configure",
    C.FIRMWARE: "stations.configure",
}
MAX_STATIONS = 5000


def bulk_stations(*, actor, command: str, stations) -> Any:
    """The stations of ``stations`` the actor may send ``command`` to."""
    allowed = Station.objects.restrict(actor, BULK_PERMISSIONS[command])
    return stations.filter(pk__in=allowed.values("pk")).order_by("identity")


def _check_arguments(command: str, arguments: dict[str, Any]) -> dict[str, Any]:
    if command == C.RESET and arguments.get("kind") in ("soft", "hard"):
        return {"kind": arguments["kind"]}
    if command == C.AVAILABILITY and isinstance(arguments.get("operative"), bool):
        return {"operative": arguments["operative"]}
    if command == C.CONFIGURATION and str(arguments.get("key", "")).strip():
        return {"key": str(arguments["key"]).strip(), "value": str(arguments.get("value", ""))}
    if command == C.FIRMWARE and str(arguments.get("location", "")).strip():
        return {"location": str(arguments["location"]).strip()}
    raise ValidationError({"arguments": ["These are not the arguments of this command."]})


@transaction.atomic
def bulk_command_start(
    *,
    actor,
    user,
    command: str,
    arguments: dict[str, Any],
    stations,
    filter_query: str = "",
) -> BulkCommand:
    """Record a bulk command over ``stations`` (a queryset: those the actor may command) and
    queue its run after commit."""
    from ..tasks import bulk_command_run  # noqa: PLC0415  (to move to monitoring/queue.py; tests patch .delay)

    if command not in BULK_PERMISSIONS:
        raise ValidationError({"command": ["Unknown command."]})
    arguments = _check_arguments(command, arguments)
    targets = list(
        bulk_stations(actor=actor, command=command, stations=stations)[: MAX_STATIONS + 1]
    )
    if not targets:
        raise PermissionDenied("No station to send this to.")
    if len(targets) > MAX_STATIONS:
        raise ValidationError(
            {"stations": [f"At most {MAX_STATIONS} stations at once: narrow the filter."]}
        )
    job = BulkCommand.objects.create(
        command=command, arguments=arguments, filter_query=filter_query[:500], created_by=user
    )
    BulkCommandItem.objects.bulk_create(
        BulkCommandItem(job=job, station=station) for station in targets
    )
    transaction.on_commit(lambda: bulk_command_run.delay(job.pk))
    return job


def bulk_progress(*, job: BulkCommand) -> dict[str, int]:
    counts = job.items.aggregate(
        total=Count("pk"),
        ok=Count("pk", filter=Q(status=BulkCommandItem.Status.OK)),
        failed=Count("pk", filter=Q(status=BulkCommandItem.Status.FAILED)),
    )
    counts["done"] = counts["ok"] + counts["failed"]
    return counts


def _send(requester, station, command: str, arguments: dict[str, Any]):

    if command == C.RESET:
        return commands.station_reset(requester=requester, station=station, **arguments)
    if command == C.AVAILABILITY:
        return commands.station_availability(
            requester=requester, station=station, operative=arguments["operative"]
        )
    if command == C.CONFIGURATION:
        return commands.station_configuration_change(
            requester=requester, station=station, changes=[arguments]
        )
    return commands.station_update_firmware(
        requester=requester,
        station=station,
        location=arguments["location"],
        retrieve_at=timezone.now(),
        request_id=secrets.randbelow(2**31 - 2) + 1,
    )


def bulk_command_run(*, job_id: int) -> dict[str, int]:
    """Send the job's command to each of its stations still waiting; idempotent."""

    claimed = BulkCommand.objects.filter(pk=job_id, status__in=[BulkCommand.Status.PENDING]).update(
        status=BulkCommand.Status.RUNNING, started_at=timezone.now()
    )
    job = BulkCommand.objects.select_related("created_by").get(pk=job_id)
    if not claimed:
        return bulk_progress(job=job)
    requester = Requester(actor=UserActor(job.created_by), source=AuditSource.PORTAL)
    items: Iterable[BulkCommandItem] = job.items.filter(
        status=BulkCommandItem.Status.PENDING
    ).select_related("station", "station__site")
    for item in items:
        try:
            reply = _send(requester, item.station, job.command, job.arguments)
            ok, answer, message = reply.ok, reply.status, reply.message
        except (PermissionDenied, CommandError, ValueError) as error:
            ok, answer, message = False, type(error).__name__, str(error)
        item.status = BulkCommandItem.Status.OK if ok else BulkCommandItem.Status.FAILED
        item.answer, item.message = answer[:64], message[:300]
        item.finished_at = timezone.now()
        item.save(update_fields=["status", "answer", "message", "finished_at"])
        progress = bulk_progress(job=job)
        publish_live(
            {
                "kind": "bulk_command",
                "job_id": job.pk,
                "station_id": item.station_id,
                "site_id": item.station.site_id,
                "item_status": item.status,
                "answer": item.answer,
                "message": item.message,
                **progress,
            }
        )
    BulkCommand.objects.filter(pk=job.pk).update(
        status=BulkCommand.Status.DONE, finished_at=timezone.now()
    )
    return bulk_progress(job=job)
