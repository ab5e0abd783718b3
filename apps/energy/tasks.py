"""Celery tasks: thin, tenant-aware (run in the schema of the tenant that queued them), by id."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from . import selectors, services


@shared_task(name="energy.poll_due")
def poll_due() -> int:
    """Every few seconds in each tenant (beat): queue a poll of each VEN that is due."""
    ven_ids = selectors.ven_ids_due()
    for ven_id in ven_ids:
        poll_ven.delay(ven_id)
    return len(ven_ids)


@shared_task(name="energy.poll_ven", soft_time_limit=60, time_limit=90)
def poll_ven(ven_id: int, force: bool = False) -> dict | None:
    result = services.ven_poll(ven_id=ven_id, force=force)
    return asdict(result) if result else None
