"""Run simulated OCPP stations against the CSMS: the demo's live traffic, and load tests.

    manage.py simulate_stations --tenant demo --count 4 --url ws://127.0.0.1:8000/ocpp/
    manage.py simulate_stations --no-register --password secret --count 500 --idle

With a tenant, missing stations (``<prefix>-001``...) and demo cards are registered first;
passwords are derived from SECRET_KEY so a rerun connects without storing them.  With
``--no-register`` the database is not touched.
"""

from __future__ import annotations

import asyncio
import logging
import random
import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from apps.simulator.provisioning import (
    StationSpec,
    demo_token_uids,
    demo_tokens_ensure,
    station_password,
    stations_ensure,
)
from apps.simulator.scenario import DemoScenario, Fleet
from apps.simulator.station import SimulatedStation, StationConfig
from apps.tenants.selectors import tenant_by_slug


class Command(BaseCommand):
    help = "Run simulated OCPP 1.6J / 2.0.1 stations with drivers who charge (Ctrl-C stops)."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # Our --version is the OCPP version (the run command passes it); it replaces
        # Django's --version, which prints Django's.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="Tenant slug: stations and cards are registered there")
        parser.add_argument("--count", type=int, default=4, help="Number of stations")
        parser.add_argument("--version", choices=["1.6", "2.0.1", "mixed"], default="mixed")
        parser.add_argument("--url", default="ws://127.0.0.1:8000/ocpp/", help="CSMS endpoint")
        parser.add_argument("--prefix", default="SIM", help="Identities are <prefix>-001...")
        parser.add_argument("--evses", type=int, default=2, help="EVSEs of new stations")
        parser.add_argument("--max-current", type=float, default=32, help="A per phase per EVSE")
        parser.add_argument("--phases", type=int, choices=[1, 3], default=3)
        parser.add_argument("--meter-interval", type=int, default=10, help="Seconds")
        parser.add_argument("--speed", type=float, default=1.0, help="Scenario time compression")
        parser.add_argument("--no-register", action="store_true", help="Do not touch the database")
        parser.add_argument("--password", help="Password of every station (else derived)")
        parser.add_argument("--tokens", help="Comma-separated card uids drivers use")
        parser.add_argument("--idle", action="store_true", help="Connect only: no drivers")
        parser.add_argument("--duration", type=float, default=0, help="Stop after N s (0: never)")
        parser.add_argument("--seed", type=int, help="Random seed, for a repeatable scenario")
        parser.add_argument(
            "--first-arrival",
            type=float,
            help="Each port's first driver comes within N minutes (default: 5 to 60)",
        )

    def handle(self, *args, **options):
        if options["count"] < 1 or options["speed"] <= 0:
            raise CommandError("--count must be at least 1 and --speed positive")
        if options["verbosity"] < 2:
            logging.getLogger("ocpp").setLevel(logging.WARNING)  # it logs every frame at INFO
        identities = [f"{options['prefix']}-{n:03d}" for n in range(1, options["count"] + 1)]
        specs, tokens = self._prepare(identities, options)
        versions = {"mixed": ("1.6", "2.0.1")}.get(options["version"], (options["version"],))
        stations = [
            SimulatedStation(
                StationConfig(
                    identity=spec.identity,
                    url=options["url"],
                    password=spec.password,
                    version=versions[index % len(versions)],
                    evse_count=spec.evse_count,
                    max_current_a=spec.max_current_a,
                    phases=spec.phases,
                    meter_interval=options["meter_interval"],
                    model="SimCharger AC",
                    serial_number=f"SIM{index + 1:06d}",
                    auto=True,
                    auto_reconnect=True,
                )
            )
            for index, spec in enumerate(specs)
        ]
        scenario = None
        if not options["idle"]:
            scenario = DemoScenario(
                tokens=tokens,
                speed=options["speed"],
                rng=random.Random(options["seed"]),
                first_arrival=options["first_arrival"],
            )
        fleet = Fleet(stations, scenario)
        self.stdout.write(
            f"Running {len(stations)} simulated stations against {options['url']} "
            f"(OCPP {options['version']}). Ctrl-C stops."
        )
        asyncio.run(self._run(fleet, options["duration"] or None))
        self.stdout.write(f"Simulator stopped: {fleet.summary()}")

    def _prepare(self, identities: list[str], options) -> tuple[list[StationSpec], list[str]]:
        given_tokens = [t.strip() for t in (options["tokens"] or "").split(",") if t.strip()]
        if options["no_register"]:
            if not options["password"] and not options["tenant"]:
                raise CommandError("--no-register needs --password, or --tenant to derive them")
            specs = [
                StationSpec(
                    identity=identity,
                    password=options["password"] or station_password(options["tenant"], identity),
                    evse_count=options["evses"],
                    max_current_a=options["max_current"],
                    phases=options["phases"],
                )
                for identity in identities
            ]
            return specs, given_tokens or demo_token_uids(options["prefix"])
        if not options["tenant"]:
            raise CommandError("--tenant is required (or --no-register)")
        tenant = tenant_by_slug(options["tenant"])
        if tenant is None:
            raise CommandError(f"No tenant {options['tenant']!r}")
        specs = stations_ensure(
            tenant=tenant,
            identities=identities,
            evse_count=options["evses"],
            max_current_a=options["max_current"],
            phases=options["phases"],
        )
        if options["password"]:
            self.stderr.write("--password is ignored for registered stations (derived instead)")
        skipped = set(identities) - {spec.identity for spec in specs}
        for identity in sorted(skipped):
            self.stderr.write(
                f"{identity} belongs to another tenant or is half-registered: skipped"
            )
        tokens = given_tokens or demo_tokens_ensure(tenant=tenant, prefix=options["prefix"])
        return specs, tokens

    async def _run(self, fleet: Fleet, duration: float | None) -> None:
        stop = asyncio.Event()
        if threading.current_thread() is threading.main_thread():
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
        await fleet.run(stop, duration)
