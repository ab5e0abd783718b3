"""OCPP load benchmark: many simulated stations against one ASGI server process, started as
the platform ships it (config.processes: uvicorn websockets-sansio with the keepalive policy,
production settings, DEBUG off) with a Celery worker running next to it, as under bin/run.

    .venv/bin/python bench/ocpp_load.py --stations 2000          (README: bench section)
    .venv/bin/python bench/ocpp_load.py --stations 10000 --rate 200

Prints: connections held, connect rate, memory per connection (server RSS), round-trip latency
p50/p99 at a fixed message rate (heartbeats, status, meter values, sessions), and persisted
MeterValues per second under flood -- next to the same flood against a bare websocket echo
server on the same stack, measured in the same run (the ceiling).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import itertools
import json
import os
import random
import time

from _common import (
    SERVER_SETTINGS,
    free_port,
    raise_fd_limit,
    server_env,
    setup_django,
    start_server,
    start_worker,
    stop,
    summary,
)

PASSWORD = "bench-password-0123456789"
PREFIX = "BENCH-"


def provision(count: int) -> str:
    """The bench tenant and ``count`` stations, bulk-inserted (idempotent)."""
    from django.db import connection
    from django_tenants.utils import tenant_context

    from apps.stations.models import Connector, Evse, Station
    from apps.tenants.models import StationIdentity
    from apps.tenants.selectors import tenant_by_slug
    from apps.tenants.services import tenant_create

    tenant = tenant_by_slug("bench") or tenant_create(
        name="Benchmark", slug="bench", admin_email="bench@example.test", admin_password=None
    )
    connection.set_schema_to_public()
    have = set(
        StationIdentity.objects.filter(tenant=tenant, identity__startswith=PREFIX).values_list(
            "identity", flat=True
        )
    )
    wanted = [f"{PREFIX}{n:05d}" for n in range(count)]
    missing = [identity for identity in wanted if identity not in have]
    if missing:
        template = StationIdentity(identity="x", tenant=tenant)
        template.set_password(PASSWORD)
        StationIdentity.objects.bulk_create(
            [
                StationIdentity(identity=i, tenant=tenant, password_hash=template.password_hash)
                for i in missing
            ],
            batch_size=2000,
        )
        with tenant_context(tenant):
            stations = Station.objects.bulk_create(
                [Station(identity=i) for i in missing], batch_size=2000
            )
            evses = Evse.objects.bulk_create(
                [Evse(station=s, evse_id=1) for s in stations], batch_size=2000
            )
            Connector.objects.bulk_create([Connector(evse=e) for e in evses], batch_size=2000)
    with tenant_context(tenant):
        from apps.charging.models import MeterValue
        from apps.ocpp.models import MessageLog

        MeterValue.objects.all().delete()
        MessageLog.objects.all().delete()
    return tenant.schema_name


async def wait_port(port: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


def cpu(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far."""
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def rss(pid: int) -> int:
    import psutil

    return psutil.Process(pid).memory_info().rss


class Station:
    """A light client: raw frames, one outstanding CALL (as OCPP requires)."""

    ids = itertools.count()

    refused = 0  # handshakes answered 503 (and retried), all stations

    def __init__(self, identity: str) -> None:
        self.identity = identity
        self.ws = None
        self.tx: int | None = None
        self.energy = random.randint(0, 10_000_000)
        self.busy = asyncio.Lock()

    async def open(self, port: int) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidStatus

        auth = base64.b64encode(f"{self.identity}:{PASSWORD}".encode()).decode()
        while True:  # as a station does: a 503 (load shedding) is retried after Retry-After
            try:
                self.ws = await connect(
                    f"ws://127.0.0.1:{port}/ocpp/{self.identity}",
                    subprotocols=["ocpp1.6"],
                    additional_headers={"Authorization": f"Basic {auth}"},
                    open_timeout=120,
                    ping_interval=None,
                    compression=None,
                )
                return
            except InvalidStatus as error:
                if error.response.status_code != 503:
                    raise
                Station.refused += 1
                await asyncio.sleep(float(error.response.headers.get("Retry-After", "1")))

    async def call(self, action: str, payload: dict) -> tuple[float, list]:
        async with self.busy:
            unique_id = str(next(self.ids))
            started = time.perf_counter()
            await self.ws.send(json.dumps([2, unique_id, action, payload]))
            while True:
                reply = json.loads(await self.ws.recv())
                if reply[1] == unique_id:
                    return time.perf_counter() - started, reply

    def meter_values(self) -> tuple[str, dict]:
        self.energy += random.randint(50, 300)
        now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        payload = {
            "connectorId": 1,
            "meterValue": [
                {
                    "timestamp": now,
                    "sampledValue": [
                        {
                            "value": str(self.energy),
                            "measurand": "Energy.Active.Import.Register",
                            "unit": "Wh",
                        },
                        {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"},
                    ],
                }
            ],
        }
        if self.tx is not None:
            payload["transactionId"] = self.tx
        return "MeterValues", payload

    def next_message(self) -> tuple[str, dict]:
        roll = random.random()
        now = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
        if roll < 0.40:
            return "Heartbeat", {}
        if roll < 0.80:
            return self.meter_values()
        if roll < 0.95:
            status = random.choice(["Available", "Preparing", "Charging", "Finishing"])
            return "StatusNotification", {
                "connectorId": 1,
                "errorCode": "NoError",
                "status": status,
                "timestamp": now,
            }
        if self.tx is None:
            return "StartTransaction", {
                "connectorId": 1,
                "idTag": "BENCHTAG",
                "meterStart": self.energy,
                "timestamp": now,
            }
        return "StopTransaction", {
            "transactionId": self.tx,
            "meterStop": self.energy,
            "timestamp": now,
        }

    async def send_next(self) -> float:
        action, payload = self.next_message()
        elapsed, reply = await self.call(action, payload)
        if action == "StartTransaction" and reply[0] == 3:
            self.tx = reply[2]["transactionId"]
        elif action == "StopTransaction":
            self.tx = None
        return action, elapsed


async def connect_all(stations: list[Station], port: int, batch: int = 250) -> float:
    started = time.perf_counter()
    for index in range(0, len(stations), batch):
        await asyncio.gather(*(s.open(port) for s in stations[index : index + batch]))
    return time.perf_counter() - started


async def boot_all(stations: list[Station], concurrency: int = 500) -> None:
    semaphore = asyncio.Semaphore(concurrency)

    async def boot(station: Station) -> None:
        async with semaphore:
            await station.call(
                "BootNotification", {"chargePointVendor": "Bench", "chargePointModel": "B1"}
            )
            await station.call(
                "StatusNotification",
                {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
            )

    await asyncio.gather(*(boot(s) for s in stations))


async def paced(stations: list[Station], rate: float, seconds: float) -> list[tuple[str, float]]:
    """Messages at a fixed rate from random stations; returns (action, round-trip time)."""
    latencies: list[tuple[str, float]] = []
    tasks: set[asyncio.Task] = set()
    interval = 1.0 / rate
    started = time.perf_counter()
    sent = 0
    while time.perf_counter() - started < seconds:
        target = started + sent * interval
        delay = target - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        station = random.choice(stations)
        if station.busy.locked():
            continue
        task = asyncio.create_task(station.send_next())
        task.add_done_callback(
            lambda t: latencies.append(t.result()) if not t.exception() else None
        )
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        sent += 1
    if tasks:
        await asyncio.wait(tasks, timeout=30)
    return latencies


async def flood(stations: list[Station], seconds: float) -> int:
    """Every given station sends MeterValues back to back; returns answered messages."""
    done = 0
    stop = time.perf_counter() + seconds

    async def run(station: Station) -> None:
        nonlocal done
        while time.perf_counter() < stop:
            action, payload = station.meter_values()
            _, reply = await station.call(action, payload)
            if reply[0] == 3:
                done += 1

    await asyncio.gather(*(run(s) for s in stations))
    return done


async def echo_flood(port: int, args) -> float:
    clients = [Station(f"ECHO-{n}") for n in range(args.flood_connections)]
    await connect_all(clients, port)
    echoed = await flood(clients, args.flood_seconds)
    for client in clients:
        await client.ws.close()
    return echoed / args.flood_seconds


def persisted(schema: str) -> int:
    from django_tenants.utils import schema_context

    from apps.charging.models import MeterValue

    with schema_context(schema):
        return MeterValue.objects.count()


async def main(args, url: str, schema: str) -> None:
    from asgiref.sync import sync_to_async

    env = server_env(
        DATABASE_URL=url, CHARGEGRID_CHANNEL_PREFIX=os.environ["CHARGEGRID_CHANNEL_PREFIX"]
    )
    ocpp_port, echo_port, channels_port = free_port(), free_port(), free_port()
    print(f"server: config.processes.asgi_server_command, {SERVER_SETTINGS}, + a Celery worker")
    server = start_server(ocpp_port, env)
    worker = start_worker(env)
    echo = start_server(echo_port, env, app="bench.echo_server:application")
    channels_echo = start_server(channels_port, env, app="bench.echo_server:channels_application")
    try:
        await asyncio.gather(wait_port(ocpp_port), wait_port(echo_port), wait_port(channels_port))
        identities = [f"{PREFIX}{n:05d}" for n in range(args.stations)]
        stations = [Station(i) for i in identities]
        warm = Station(identities[0])
        await warm.open(ocpp_port)
        await warm.call("Heartbeat", {})
        await warm.ws.close()
        await asyncio.sleep(1)
        memory_before = rss(server.pid)
        cpu_before = cpu(server.pid)

        connect_seconds = await connect_all(stations, ocpp_port)
        boot_started = time.perf_counter()
        await boot_all(stations)
        boot_seconds = time.perf_counter() - boot_started
        cpu_per_station = (cpu(server.pid) - cpu_before) / args.stations
        await asyncio.sleep(2)
        memory_after = rss(server.pid)
        held = sum(1 for s in stations if s.ws.state.name == "OPEN")
        print(
            f"stations held:         {held} / {args.stations} "
            f"(connected in {connect_seconds:.1f} s, {args.stations / connect_seconds:.0f}/s)"
        )
        print(
            f"connected and booted:  {connect_seconds + boot_seconds:.1f} s, "
            f"{args.stations / (connect_seconds + boot_seconds):.0f} stations/s "
            "(authenticated handshake, BootNotification and StatusNotification answered; "
            f"{Station.refused} handshakes refused 503 and retried)"
        )
        print(
            f"server CPU per station: {cpu_per_station * 1000:.1f} ms for connect + boot "
            f"-> {1 / cpu_per_station:.0f} stations/s on one fully available core "
            f"(load average {os.getloadavg()[0]:.1f} during the run)"
        )
        print(
            f"server memory:         {memory_before / 2**20:.0f} MiB idle -> {memory_after / 2**20:.0f} MiB; "
            f"{(memory_after - memory_before) / max(held, 1) / 1024:.1f} KiB per connection"
        )

        timed = await paced(stations, args.rate, args.duration)
        latencies = [elapsed for _, elapsed in timed]
        print(
            f"latency @ {args.rate:.0f} msg/s:   {summary(latencies)} ({len(latencies)} messages)"
        )
        for action in sorted({action for action, _ in timed}):
            of_action = [elapsed for name, elapsed in timed if name == action]
            print(f"  {action:<20} {summary(of_action)} ({len(of_action)})")

        flooders = stations[: args.flood_connections]
        before = await sync_to_async(persisted, thread_sensitive=False)(schema)
        answered = await flood(flooders, args.flood_seconds)
        after = await sync_to_async(persisted, thread_sensitive=False)(schema)
        stored_rate = (after - before) / 2 / args.flood_seconds  # two samples per message
        answered_rate = answered / args.flood_seconds
        for station in stations:
            await station.ws.close()
        await asyncio.to_thread(stop, server)  # its disconnect work must not load the echo runs

        echo_rate = await echo_flood(echo_port, args)
        channels_rate = await echo_flood(channels_port, args)
        print(
            f"MeterValues persisted: {stored_rate:.0f} msg/s (answered {answered_rate:.0f}/s) "
            f"with {args.flood_connections} stations flooding"
        )
        print(
            f"echo ceiling:          {echo_rate:.0f} msg/s  -> persisted = "
            f"{stored_rate / echo_rate * 100:.0f}% of the bare websocket echo"
        )
        print(
            f"Channels echo:         {channels_rate:.0f} msg/s  -> persisted = "
            f"{stored_rate / channels_rate * 100:.0f}% of an echo consumer on Channels "
            f"(the stack's own floor: {channels_rate / echo_rate * 100:.0f}% of the bare echo)"
        )
    finally:
        for process in (server, worker, echo, channels_echo):
            stop(process)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stations", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0, help="messages/s in the latency phase")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of the latency phase")
    parser.add_argument("--flood-connections", type=int, default=200)
    parser.add_argument("--flood-seconds", type=float, default=10.0)
    main_args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    raise_fd_limit()
    database_url = setup_django()
    bench_schema = provision(main_args.stations)
    asyncio.run(main(main_args, database_url, bench_schema))
