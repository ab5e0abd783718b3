"""Runs the whole platform in the foreground: ASGI server, Celery worker and beat, the demo
tenant and its simulated stations, and keeps them running.

A child that exits is restarted after a back-off that doubles with each quick failure (1 s,
2 s, 4 s ... at most 30 s) and starts again from 1 s once the child stayed up for a minute;
each exit is logged with its exit code or signal.  Ctrl-C or SIGTERM stops every child.  The
command lines come from ``config.processes`` (the same as in production and in the tests).
In production systemd does this job for each process (docs/deployment.md).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand

from config.processes import asgi_server_command, celery_beat_command, celery_worker_command

BACKOFF_FIRST = 1.0  # seconds before the first restart
BACKOFF_CAP = 30.0  # longest wait between restarts
STABLE_AFTER = 60.0  # a child up this long starts its back-off from BACKOFF_FIRST again
STOP_GRACE = 15.0  # seconds children get to stop on SIGTERM before they are killed


@dataclass
class Child:
    name: str
    command: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    failures: int = 0  # quick exits in a row
    restart_at: float | None = None
    restarts: int = field(default=0)

    def start(self, env: dict[str, str]) -> None:
        # Its own process group: Ctrl-C reaches only the supervisor, which stops the children
        # in order instead of racing their exits against its restarts.
        self.process = subprocess.Popen(
            self.command, env=env, cwd=settings.BASE_DIR, process_group=0
        )
        self.started_at = time.monotonic()
        self.restart_at = None

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


def backoff(failures: int) -> float:
    """Seconds to wait before the restart that follows ``failures`` quick exits in a row."""
    return min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** max(0, failures - 1))


class Command(BaseCommand):
    help = "Run server, worker, scheduler and the demo tenant (the README's run command)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-demo", action="store_true", help="Do not create the demo tenant")
        parser.add_argument("--stations", type=int, default=4, help="Simulated demo stations")
        parser.add_argument(
            "--verbose",
            action="store_true",
            help="Every request and task in the log (default: warnings and errors only)",
        )

    def handle(self, *args, **options):
        call_command("migrate_schemas", interactive=False, verbosity=0)
        login = None
        if not options["no_demo"]:
            # Lazy on purpose: the demo's composition root imports every feature app.
            from config.demo import demo_ensure  # noqa: PLC0415

            login = demo_ensure(stations=options["stations"])
        env = os.environ.copy()  # carries DATABASE_URL / REDIS_URL of embedded servers
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
        host, port = options["host"], options["port"]
        # A newcomer reads the few lines that matter: without --verbose the server logs no
        # request and the worker and beat neither their banners nor each task, only
        # warnings and errors (the portal shows what happens).
        verbose = options["verbose"]
        schedule = settings.BASE_DIR / "var" / "celerybeat-schedule"
        children = [
            Child(
                "web",
                asgi_server_command(
                    host, port, log_level="info" if verbose else "warning", access_log=verbose
                ),
            ),
            Child(
                "worker",
                _celery_quiet(
                    celery_worker_command(
                        concurrency=2, log_level="INFO" if verbose else "WARNING"
                    ),
                    verbose,
                ),
            ),
            Child(
                "beat",
                _celery_quiet(
                    celery_beat_command(
                        schedule=schedule, log_level="INFO" if verbose else "WARNING"
                    ),
                    verbose,
                ),
            ),
        ]
        if login and options["stations"] > 0:
            simulator = self._simulator_command(options, login)
            if simulator:
                children.append(Child("stations", simulator))

        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        for child in children:
            child.start(env)
        announced = False
        while not stopping:
            now = time.monotonic()
            for child in children:
                if child.exited() and child.restart_at is None:
                    self._schedule_restart(child, now)
                elif child.restart_at is not None and now >= child.restart_at:
                    child.restarts += 1
                    self.stderr.write(f"{child.name}: restarting (restart {child.restarts}).")
                    child.start(env)
            if not announced and children[0].running() and _listening(host, port):
                announced = True
                self._announce(login, options)
            time.sleep(0.2)
        self._stop_all(children)
        self.stdout.write("chargegrid stopped.")

    def _schedule_restart(self, child: Child, now: float) -> None:
        uptime = now - child.started_at
        if uptime >= STABLE_AFTER:
            child.failures = 0
        child.failures += 1
        delay = backoff(child.failures)
        child.restart_at = now + delay
        self.stderr.write(
            self.style.ERROR(
                f"{child.name} (pid {child.process.pid}) exited with "
                f"{describe_exit(child.process.returncode)} after {uptime:.1f} s; "
                f"restarting in {delay:g} s."
            )
        )

    def _stop_all(self, children: list[Child]) -> None:
        for child in children:
            if child.running():
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for child in children:
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait(timeout=5)

    def _announce(self, login, options) -> None:
        port = options["port"]
        lines = ["", "chargegrid is running."]
        if login:
            lines.append(
                f"  Portal:   http://{login['domain']}:{port}/  (sign in as "
                f"{login['email']} / {login['password']})"
            )
        lines += [
            f"  Operator: http://{settings.BASE_DOMAIN}:{port}/admin/",
            "Press Ctrl-C to stop.",
            "",
        ]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))
        self.stdout.flush()

    def _simulator_command(self, options, login) -> list[str] | None:
        if "simulate_stations" not in get_commands():
            return None
        return [
            sys.executable,
            "manage.py",
            "simulate_stations",
            "--tenant",
            login["slug"],
            "--count",
            str(options["stations"]),
            "--url",
            f"ws://{options['host']}:{options['port']}/ocpp/",
            # a newcomer sees sessions start within the first minute, not after 5 to 60
            "--first-arrival",
            "1",
        ]


def _celery_quiet(command: list[str], verbose: bool) -> list[str]:
    """Celery's ``--quiet`` (no start-up banner, no task list) is a global option: it goes
    before the sub-command."""
    if verbose:
        return command
    at = command.index("-A")
    return [*command[:at], "--quiet", *command[at:]]


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False
