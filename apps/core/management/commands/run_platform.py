"""Runs the whole platform in the foreground: ASGI server, Celery worker and beat, the demo
tenant and its simulated stations.  Ctrl-C stops every process it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run server, worker, scheduler and the demo tenant (the README's run command)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-demo", action="store_true", help="Do not create the demo tenant")
        parser.add_argument("--stations", type=int, default=4, help="Simulated demo stations")

    def handle(self, *args, **options):
        call_command("migrate_schemas", interactive=False, verbosity=0)
        if not options["no_demo"]:
            from apps.core.demo import demo_ensure

            login = demo_ensure()
        env = os.environ.copy()  # carries DATABASE_URL / REDIS_URL of embedded servers
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
        python = sys.executable
        commands = {
            "web": [
                python,
                "-m",
                "uvicorn",
                "config.asgi:application",
                "--host",
                options["host"],
                "--port",
                str(options["port"]),
                "--lifespan",
                "off",
                "--ws",
                "websockets",
                "--ws-ping-interval",
                "0",
            ],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-l",
                "INFO",
                "--concurrency",
                "2",
                "--hostname",
                "worker@%h",
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "-l",
                "INFO",
                "--schedule",
                str(settings.BASE_DIR / "var" / "celerybeat-schedule"),
            ],
        }
        if not options["no_demo"] and options["stations"] > 0:
            simulator = self._simulator_command(python, options, login)
            if simulator:
                commands["stations"] = simulator
        processes: dict[str, subprocess.Popen] = {}
        for name, command in commands.items():
            processes[name] = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)
        if not options["no_demo"]:
            self.stdout.write(
                self.style.SUCCESS(
                    f"\nchargegrid is running.\n"
                    f"  Portal:   http://{login['domain']}:{options['port']}/  (sign in as "
                    f"{login['email']} / {login['password']})\n"
                    f"  Operator: http://{settings.BASE_DOMAIN}:{options['port']}/admin/\n"
                    f"Press Ctrl-C to stop.\n"
                )
            )
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    self.stderr.write(f"{name} exited with {process.returncode}; stopping.")
                    stopping, exit_code = True, 1
                    break
            time.sleep(0.3)
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        self.stdout.write("chargegrid stopped.")
        if exit_code:
            raise SystemExit(exit_code)

    def _simulator_command(self, python, options, login) -> list[str] | None:
        from django.core.management import get_commands

        if "simulate_stations" not in get_commands():
            return None
        return [
            python,
            "manage.py",
            "simulate_stations",
            "--tenant",
            login["slug"],
            "--count",
            str(options["stations"]),
            "--url",
            f"ws://{options['host']}:{options['port']}/ocpp/",
        ]
