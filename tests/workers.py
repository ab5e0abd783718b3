"""Celery workers for tests as real processes (``celery worker`` via ``tests.celery_worker``),
on the pytest-django test database and the suite's broker.

In-process ``start_worker`` threads were dropped: one that did not leave its broker poll at
shutdown blocked every later worker in the run.  A process can always be killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid

from django.conf import settings
from django.db import connection

from config.embedded import with_database

ROOT = settings.BASE_DIR


class WorkerProcess:
    def __init__(self, name: str = "worker", *, settings: dict | None = None, env=None) -> None:
        self.name = f"{name}-{uuid.uuid4().hex[:6]}"
        self.settings = settings or {}
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None
        var = ROOT / "var"
        var.mkdir(exist_ok=True)
        self.log_path = var / f"test-{self.name}.log"
        self.ready_path = var / f"test-{self.name}.ready"

    def start(self, timeout: float = 60) -> WorkerProcess:
        self.ready_path.unlink(missing_ok=True)
        env = {
            **os.environ,
            "DATABASE_URL": with_database(
                os.environ["DATABASE_URL"], connection.settings_dict["NAME"]
            ),
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "CG_TEST_WORKER_SETTINGS": json.dumps(self.settings),
            "CG_TEST_WORKER_READY": str(self.ready_path),
            **self.extra_env,
        }
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.celery_worker", f"{self.name}@localhost"],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while not self.ready_path.exists():
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log_path.read_text()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} not ready:\n{self.log_path.read_text()}")
            time.sleep(0.1)
        return self

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # warm shutdown: finish the current task
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if hasattr(self, "_log"):
            self._log.close()
        self.ready_path.unlink(missing_ok=True)


def started(*workers: WorkerProcess):
    """Start several workers together; stop them all even if one fails to start."""
    try:
        for worker in workers:
            worker.start()
    except BaseException:
        for worker in workers:
            worker.stop()
        raise
    return workers
