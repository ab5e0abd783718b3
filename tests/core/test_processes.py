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


def child_running(parent: int, word: str, not_pid: int | None = None) -> psutil.Process | None:
    for child in psutil.Process(parent).children(recursive=True):
        try:
            if word in " ".join(child.cmdline()) and child.pid != not_pid:
                return child
        except psutil.NoSuchProcess:
            continue
    return None


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

        # Supervision: a child killed outright is restarted, and the reason is logged.
        web, worker = child_running(process.pid, "uvicorn"), child_running(process.pid, " worker")
        web.kill()
        worker.kill()
        deadline = time.monotonic() + 60
        new_web = new_worker = None
        while time.monotonic() < deadline and not (new_web and new_worker):
            time.sleep(0.5)
            new_web = child_running(process.pid, "uvicorn", not_pid=web.pid)
            new_worker = child_running(process.pid, " worker", not_pid=worker.pid)
        log.seek(0)
        output = log.read()
        assert new_web and new_worker, output
        assert f"web (pid {web.pid}) exited with signal SIGKILL" in output
        assert f"worker (pid {worker.pid}) exited with signal SIGKILL" in output
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and status != 200:
            try:
                status, _ = fetch(port, "demo.localhost", "/accounts/login/")
            except OSError:
                time.sleep(0.5)
        assert status == 200, "the restarted server does not answer"
        assert process.poll() is None

        children = psutil.Process(process.pid).children(recursive=True)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=40) == 0
        gone, alive = psutil.wait_procs(children, timeout=10)
        assert not alive, alive
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


FIRST_PROCESS = """
import os, sys, time
from pathlib import Path
import redis
from django.db import connection
print("urls", os.environ["DATABASE_URL"], os.environ["REDIS_URL"], flush=True)
go = Path(sys.argv[-1])
while not go.exists():
    time.sleep(0.1)
connection.close()  # a new connection: the server must still be there
with connection.cursor() as cursor:
    cursor.execute("SELECT version()")
    print(cursor.fetchone()[0])
print("redis", redis.Redis.from_url(os.environ["REDIS_URL"]).ping(), flush=True)
"""


@pytest.mark.slow
def test_embedded_services_are_shared_and_stopped_only_by_their_starter(tmp_path):
    """No URLs set: the first command starts an embedded PostgreSQL and Redis (settings do
    not); a second command attaches to them and, when it exits, leaves them running."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["CHARGEGRID_DATA_DIR"] = str(tmp_path / "data")
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    go = tmp_path / "go"
    (tmp_path / "first.py").write_text(FIRST_PROCESS)
    first = subprocess.Popen(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", f"import sys; sys.argv.append({str(go)!r});"
         f"exec(open({str(tmp_path / 'first.py')!r}).read())"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = first.stdout.readline()  # blocks until the servers are up
        assert line.startswith("urls "), line + first.stderr.read()
        database_url, redis_url = line.split()[1:]
        assert str(tmp_path) in database_url  # pgserver's socket directory in the data folder
        second = subprocess.run(
            [sys.executable, "manage.py", "shell", "--no-imports", "-c",
             "import os; from django.db import connection; connection.ensure_connection();"
             "print(os.environ['DATABASE_URL'], os.environ['REDIS_URL'])"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert second.returncode == 0, second.stderr
        assert second.stdout.split() == [database_url, redis_url]  # attached, not started anew
        go.touch()
        out, err = first.communicate(timeout=60)
        assert first.returncode == 0, err
        assert "PostgreSQL" in out and "redis True" in out, out + err
    finally:
        if first.poll() is None:
            first.kill()
    # The starter stopped its Redis when it exited.
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_settings_do_not_start_servers():
    """Without URLs, importing the settings fails with a clear message instead of starting
    embedded servers as a side effect."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "Set DATABASE_URL" in result.stderr
