"""Roaming fixtures: the independent eMSP peer (``emsp_peer.py``) as its own process, an ASGI
server for it to reach the CPO at, and committed partners cleaned up after each test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.tenants.models import Tenant
from tests.live import ServerProcess, free_port

PEER = Path(__file__).with_name("emsp_peer.py")
ALPHA_HOST = "alpha.localhost"


class PeerProcess:
    def __init__(self, connect_to: str | None = None, version: str = "2.2.1") -> None:
        self.port = free_port()
        self.connect_to = connect_to
        self.version = version
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def versions_url(self) -> str:
        return f"{self.url}/ocpi/versions"

    def start(self) -> PeerProcess:
        env = {**os.environ}
        if self.connect_to:
            env["PEER_CONNECT_TO"] = self.connect_to
        env["PEER_VERSION"] = self.version
        self.process = subprocess.Popen(
            [sys.executable, str(PEER), "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                self.state()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the eMSP peer did not start")

    def control(self, name: str, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}/_control/{name}",
            data=data,
            method="POST" if body is not None else "GET",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def state(self) -> dict:
        return self.control("state")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=5)


@pytest.fixture(scope="session")
def roaming_server(django_db_setup):
    process = ServerProcess("roaming").start(ROAMING_ALLOW_PRIVATE_NETWORKS="true")
    yield process
    process.stop()


@pytest.fixture
def peer(roaming_server):
    process = PeerProcess(connect_to=f"127.0.0.1:{roaming_server.port}").start()
    yield process
    process.stop()


@pytest.fixture
def peer_211(roaming_server):
    """The same peer speaking only OCPI 2.1.1."""
    process = PeerProcess(connect_to=f"127.0.0.1:{roaming_server.port}", version="2.1.1").start()
    yield process
    process.stop()


@pytest.fixture
def live_alpha(django_db_setup, django_db_blocker):
    """Alpha with committed data (the server and worker processes must see it); the
    roaming rows made by the test are removed after it."""
    from apps.roaming.models import Partner, RoamingProfile

    with django_db_blocker.unblock():
        tenant = Tenant.objects.get(slug="alpha")
        with tenant_context(tenant):
            Partner.objects.all().delete()
            RoamingProfile.objects.all().delete()
        connection.set_tenant(tenant)
        yield tenant
        connection.set_tenant(tenant)
        Partner.objects.all().delete()
        RoamingProfile.objects.all().delete()
        connection.set_schema_to_public()
