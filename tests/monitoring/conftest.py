from __future__ import annotations

import pytest

from tests.queued import record_tasks


@pytest.fixture
def sent_alert_mail(monkeypatch):
    """Alert e-mails are sent at once (the Celery task runs in-process, in this tenant)."""
    from apps.monitoring import tasks

    calls = []

    def delay(alert_id, event):
        calls.append((alert_id, event))
        return tasks.alert_notify.apply(args=(alert_id, event))

    record_tasks(monkeypatch, "monitoring.alert_notify", delay)
    return calls
