"""Celery tasks: thin, tenant-aware, by id; each calls one service."""

from __future__ import annotations

from celery import shared_task

from . import selectors, services


@shared_task(name="waitlist.port_freed")
def port_freed(station_id: int, evse_id: int) -> str:
    """A port became Available: claim the next driver and send the reservation at once (the
    latency the bench measures: StatusNotification → ReserveNow)."""
    entry_id = services.port_freed(station_id=station_id, evse_id=evse_id)
    if entry_id is None:
        return "nobody"
    return services.hold_reserve(entry_id=entry_id)


@shared_task(name="waitlist.port_promote")
def port_promote(evse_pk: int, skip_entry_ids: list[int]) -> str:
    entry = services.port_promote(evse_pk=evse_pk, skip_entry_ids=skip_entry_ids)
    if entry is None:
        return "nobody"
    return services.hold_reserve(entry_id=entry.pk, skip_entry_ids=skip_entry_ids)


@shared_task(name="waitlist.group_promote")
def group_promote(group_id: int) -> int:
    claimed = services.group_promote(group_id=group_id)
    for entry_id in claimed:
        services.hold_reserve(entry_id=entry_id)
    return len(claimed)


@shared_task(name="waitlist.hold_expire")
def hold_expire(entry_id: int) -> str | None:
    return services.hold_expire(entry_id=entry_id)


@shared_task(name="waitlist.expire_due")
def expire_due() -> int:
    """Beat, every 30 s per tenant: holds whose timed task was lost, and page joins whose card
    was not tapped in time."""
    expired = services.lapse_unconfirmed()
    for entry_id in selectors.entries_due_to_expire():
        expired += services.hold_expire(entry_id=entry_id) is not None
    return expired


@shared_task(name="waitlist.session_started")
def session_started(session_id: int) -> int | None:
    entry = services.session_started(session_id=session_id)
    return entry.pk if entry else None


@shared_task(name="waitlist.reservation_cancel")
def reservation_cancel(station_id: int, reservation_id: int) -> str:
    return services.reservation_cancel(station_id=station_id, reservation_id=reservation_id)


@shared_task(name="waitlist.position_display")
def position_display(entry_id: int, station_id: int) -> str:
    return services.position_display(entry_id=entry_id, station_id=station_id)
