"""Work reports queue for their Celery workers (``tasks.py``), sent by task name after the
current transaction commits (apps/core/queue.py: services import this, never ``tasks``)."""

from __future__ import annotations

from apps.core.queue import send_after_commit


def export_run(job_id: int) -> None:
    send_after_commit("reports.export_run", (job_id,))
