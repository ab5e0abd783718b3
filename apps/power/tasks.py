"""Celery tasks: thin, tenant-aware (run in the schema of the tenant that queued them), by id."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task
from django.core.cache import cache

from . import queue, selectors, services


@shared_task(name="power.rebalance_all")
def rebalance_all() -> int:
    """Every 30 s in each tenant (beat): rebalance every site that has an electrical tree."""
    site_ids = selectors.managed_site_ids()
    for site_id in site_ids:
        queue.enqueue_rebalance(site_id)
    return len(site_ids)


@shared_task(name="power.rebalance_site")
def rebalance_site(site_id: int) -> dict:
    cache.delete(queue.pending_key(site_id))
    return asdict(services.site_rebalance(site_id=site_id))


@shared_task(name="power.session_started")
def session_started(session_id: int) -> None:
    services.session_power_start(session_id=session_id)


@shared_task(name="power.station_connected")
def station_connected(station_id: int) -> bool:
    return services.station_power_connect(station_id=station_id)


@shared_task(name="power.station_defaults")
def station_defaults(station_id: int) -> bool:
    return services.station_defaults_push(station_id=station_id)
