"""Real processes for tests: ASGI servers on free ports against the test database, and
websocket OCPP clients built on the `ocpp` library."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import subprocess
import threading
import time
import urllib.request
import uuid
from contextlib import contextmanager

from django.conf import settings
from django.db import connection

from config.embedded import with_database
from config.processes import WS_PING_INTERVAL, WS_PING_TIMEOUT, asgi_server_command

ROOT = settings.BASE_DIR


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """The platform's ASGI server (``config.processes.asgi_server_command``, as ``bin/run``
    and production start it) in a subprocess, on the pytest-django test DB."""

    def __init__(
        self,
        name: str = "server",
        *,
        ping_interval: float = WS_PING_INTERVAL,
        ping_timeout: float = WS_PING_TIMEOUT,
    ) -> None:
        self.name = name
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log_path = ROOT / "var" / f"test-{name}-{self.port}.log"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, **extra_env: str) -> ServerProcess:
        database = connection.settings_dict["NAME"]
        env = {
            **os.environ,
            "DATABASE_URL": with_database(os.environ["DATABASE_URL"], database),
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            **extra_env,
        }
        self.log_path.parent.mkdir(exist_ok=True)
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            asgi_server_command(
                "127.0.0.1",
                self.port,
                ping_interval=self.ping_interval,
                ping_timeout=self.ping_timeout,
                log_level="warning",
            ),
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        # A loaded machine (the whole suite, other work) can take well over 30 s to import.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log_path.read_text()}")
            try:
                request = urllib.request.Request(
                    f"{self.http}/healthz", headers={"Host": "localhost"}
                )
                with urllib.request.urlopen(request, timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if hasattr(self, "_log"):
            self._log.close()


class LoopThread:
    """An asyncio loop in a thread, for simulated stations and websocket clients next to a
    synchronous test (its ORM work and the browser API stay in the main thread)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def basic_auth(identity: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{identity}:{password}".encode()).decode()


def unique_identity(prefix: str = "CP") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@contextmanager
def tenant(tenant_obj):
    previous = connection.tenant if hasattr(connection, "tenant") else None
    connection.set_tenant(tenant_obj)
    try:
        yield
    finally:
        if previous is not None:
            connection.set_tenant(previous)
        else:
            connection.set_schema_to_public()


async def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05):
    """Poll an (async or sync) predicate until it is truthy; returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


def blocking(fn):
    """Run ORM code from sync or async test code (in a worker thread when a loop runs)."""
    import concurrent.futures

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn()

    def run():
        try:
            return fn()
        finally:
            connection.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()
