"""Thin, tenant-aware Celery tasks (tenant-schemas-celery runs each in its tenant's schema)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .choices import PushStatus
from .remote import command_run as run
from .services import push_attempt, pushes_requeue


@shared_task(bind=True, name="roaming.push_deliver", ignore_result=True, max_retries=None)
def push_deliver(self, push_id: int) -> str | None:
    """Attempt one push; on failure Celery retries it after the push's back-off."""
    push = push_attempt(push_id=push_id)
    if push is None:
        return None
    if push.status == PushStatus.RETRYING:
        wait = max((push.next_attempt_at - timezone.now()).total_seconds(), 0)
        raise self.retry(countdown=wait)
    return push.status


@shared_task(name="roaming.requeue_lost", ignore_result=True)
def push_requeue_lost() -> int:
    return pushes_requeue()


@shared_task(name="roaming.command_run", ignore_result=True)
def command_run(command_id: int) -> str | None:
    """Carry out one partner's command (claimed: a redelivered task does nothing)."""
    remote = run(command_id=command_id)
    return remote.result if remote else None
