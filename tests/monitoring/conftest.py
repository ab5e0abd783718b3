from __future__ import annotations

import pytest


@pytest.fixture
def sent_alert_mail(monkeypatch):
    """Alert e-mails are sent at once (the Celery task runs in-process, in this tenant)."""
    from apps.monitoring import tasks

    calls = []

    def delay(alert_id, event):
        calls.append((alert_id, event))
        return tasks.alert_notify.apply(args=(alert_id, event))

    monkeypatch.setattr(tasks.alert_notify, "delay", delay)
    return calls
