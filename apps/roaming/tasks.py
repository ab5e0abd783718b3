"""Thin, tenant-aware Celery tasks (tenant-schemas-celery runs each in its tenant's schema)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .choices import PushStatus
from .remote import command_run as run
from .services import push_attempt, pushes_requeue
from .services import push_drain as push_drain_service


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


@shared_task(name="roaming.push_deliver_batch", ignore_result=True)
def push_deliver_batch(push_ids: list[int]) -> int:
    """One partner's pushes of one transaction, sent in the order they were made.  When one
    fails (the partner is down), it and the rest wait for its back-off, each its own
    ``push_deliver`` task, rather than each failing in turn now.  Returns how many were sent."""
    from django.utils import timezone

    from .services import push_attempt

    sent = 0
    for index, push_id in enumerate(push_ids):
        push = push_attempt(push_id=push_id)
        if push is None:
            continue
        if push.status == PushStatus.RETRYING:
            wait = max((push.next_attempt_at - timezone.now()).total_seconds(), 0)
            for later in push_ids[index:]:
                push_deliver.apply_async((later,), countdown=wait)
            break
        sent += push.status == PushStatus.SUCCEEDED
    return sent


@shared_task(name="roaming.push_drain", ignore_result=True)
def push_drain(partner_id: int) -> int:
    """Send what is due of one partner's outbox: coalesced, concurrently, in order per object
    (one drainer per partner; see ``services.push_drain``)."""
    return push_drain_service(partner_id=partner_id)


@shared_task(name="roaming.requeue_lost", ignore_result=True)
def push_requeue_lost() -> int:
    return pushes_requeue()


@shared_task(name="roaming.command_run", ignore_result=True)
def command_run(command_id: int) -> str | None:
    """Carry out one partner's command (claimed: a redelivered task does nothing)."""
    remote = run(command_id=command_id)
    return remote.result if remote else None


@shared_task(name="roaming.tokens_pull", ignore_result=True)
def tokens_pull() -> int:
    """Pull what changed in every partner's tokens (incremental, date_from)."""
    from .services import tokens_pull_all

    return tokens_pull_all()
