"""Monitoring tasks: thin, take ids, run in the tenant that queued them."""

from __future__ import annotations

from celery import shared_task

from .services import alert_notify as notify
from .services import monitoring_sweep


@shared_task(name="monitoring.sweep")
def sweep() -> dict[str, int]:
    result = monitoring_sweep()
    return {"raised": result.raised, "cleared": result.cleared}


@shared_task(
    name="monitoring.alert_notify",
    autoretry_for=(OSError,),
    retry_backoff=30,
    max_retries=5,
)
def alert_notify(alert_id: int, event: str) -> int:
    return notify(alert_id=alert_id, event=event)


@shared_task(name="monitoring.bulk_command_run")
def bulk_command_run(job_id: int) -> dict[str, int]:
    from .services.bulk import bulk_command_run as run

    return run(job_id=job_id)


@shared_task(name="monitoring.remote_start")
def remote_start(
    ref: str,
    user_id: int,
    station_id: int,
    evse_id: int,
    id_token: str,
    ip: str | None = None,
    language: str = "",
) -> dict:
    from .services.remote import remote_start_run

    return remote_start_run(
        ref=ref,
        user_id=user_id,
        station_id=station_id,
        evse_id=evse_id,
        id_token=id_token,
        ip=ip,
        language=language,
    )
