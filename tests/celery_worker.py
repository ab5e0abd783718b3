"""Entry point for a Celery worker subprocess started by tests (see ``tests.workers``).

Runs ``config.celery`` with a solo pool against the test database, after applying the
settings the test asks for (``CG_TEST_WORKER_SETTINGS``, JSON) and, for the billing race
test, a slowed pain.001 build that records each call (``CG_TEST_WORKER_SLOW_PAYOUT``).
It touches ``CG_TEST_WORKER_READY`` once it consumes from the broker.  The worker's arguments
come from ``config.processes`` (as under ``bin/run``), with a solo pool.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from celery.signals import worker_ready  # noqa: E402
from django.conf import settings  # noqa: E402

from config.celery import app  # noqa: E402
from config.processes import celery_worker_arguments  # noqa: E402


def _apply_settings() -> None:
    for name, value in json.loads(os.environ.get("CG_TEST_WORKER_SETTINGS", "{}")).items():
        setattr(settings, name, value)


def _slow_payout_build() -> None:
    spec = os.environ.get("CG_TEST_WORKER_SLOW_PAYOUT")
    if not spec:
        return
    delay, record = spec.split(":", 1)
    from apps.billing.services import payouts

    real_build = payouts.build_pain001

    def slow_build(**kwargs):  # hold the payout claim so that a second worker collides
        with open(record, "a") as out:
            out.write(f"{kwargs['message_id']}\n")
        time.sleep(float(delay))
        return real_build(**kwargs)

    payouts.build_pain001 = slow_build


@app.task(name="tests.touch")
def touch(path: str) -> None:
    """A task with a visible effect, for tests that only need to see a task run."""
    Path(path).touch()


@app.task(name="tests.append")
def append(path: str, line: str) -> None:
    """Appends ``line`` to ``path``: a task whose every run is visible (exactly-once checks)."""
    with open(path, "a") as handle:
        handle.write(line + "\n")


@worker_ready.connect
def _ready(**kwargs) -> None:
    Path(os.environ["CG_TEST_WORKER_READY"]).touch()


if __name__ == "__main__":
    _apply_settings()
    _slow_payout_build()
    hostname = sys.argv[1]
    app.worker_main(
        celery_worker_arguments(
            hostname=hostname,
            pool="solo",
            log_level="WARNING",
            extra=["--without-gossip", "--without-mingle", "--without-heartbeat"],
        )
    )
