"""Celery tasks: thin, tenant-aware, by id; each calls one service."""

from __future__ import annotations

from celery import shared_task

from . import local_lists


@shared_task(name="access.local_list_sync")
def local_list_sync(station_id: int, clear_cache: bool = False) -> str:
    return local_lists.local_list_sync(station_id=station_id, clear_cache=clear_cache)


@shared_task(name="access.local_lists_refresh")
def local_lists_refresh(site_ids: list[int] | None = None, clear_cache: bool = False) -> int:
    """The rules of these sites changed: each of their online stations gets its list (and,
    when asked, a cleared auth cache)."""
    stations = local_lists.stations_to_sync(site_ids=None if site_ids is None else set(site_ids))
    for station_id in stations:
        local_list_sync.delay(station_id, clear_cache)
    return len(stations)


@shared_task(name="access.local_lists_tick")
def local_lists_tick() -> int:
    """Beat, every 15 minutes per tenant: windows that opened or closed since."""
    return local_lists_refresh(None, False)
