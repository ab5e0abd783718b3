"""The platform's processes for real: the run command and the embedded services."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import psutil
import psycopg
import pytest
from django.conf import settings

from config.embedded import with_database

ROOT = settings.BASE_DIR


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(port: int, host: str, path: str) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


@pytest.fixture
def scratch_database():
    """A database of its own on the same server, so the run command migrates from nothing."""
    base = os.environ["DATABASE_URL"]
    name = f"chargegrid_smoke_{os.getpid()}"
    with psycopg.connect(with_database(base, "postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    yield with_database(base, name)
    with psycopg.connect(with_database(base, "postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.slow
def test_run_command_serves_the_demo_and_stops_cleanly(scratch_database, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": scratch_database,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
    }
    log = open(tmp_path / "run.log", "w+")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_platform", "--port", str(port), "--stations", "0"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status, body = fetch(port, "demo.localhost", "/accounts/login/")
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        log.seek(0)
        output = log.read()
        assert status == 200, output
        assert "Demo Charging Network" in body
        assert "admin@demo.chargegrid.local" in output  # the printed sign-in
        # every process is up: web, worker, scheduler
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            commands = [
                " ".join(p.cmdline()) for p in psutil.Process(process.pid).children(recursive=True)
            ]
            if all(any(word in c for c in commands) for word in ("uvicorn", " worker", " beat")):
                break
            time.sleep(0.5)
        assert any("uvicorn" in c for c in commands), commands
        assert any("celery" in c and " worker" in c for c in commands), commands
        assert any("celery" in c and " beat" in c for c in commands), commands
        children = psutil.Process(process.pid).children(recursive=True)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=40) == 0
        gone, alive = psutil.wait_procs(children, timeout=10)
        assert not alive, alive
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


@pytest.mark.slow
def test_embedded_postgres_and_redis_start_when_no_urls_are_set(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["CHARGEGRID_DATA_DIR"] = str(tmp_path / "data")
    script = (
        "import django, os; django.setup();"
        "from django.db import connection; from django.conf import settings; import redis;"
        "cur = connection.cursor(); cur.execute('SELECT version()'); print(cur.fetchone()[0]);"
        "print('redis', redis.Redis.from_url(settings.REDIS_URL).ping());"
        "print(os.environ['DATABASE_URL']); print(os.environ['REDIS_URL'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    assert "PostgreSQL" in result.stdout and "redis True" in result.stdout
    assert str(tmp_path) in result.stdout  # both live in the data folder asked for
