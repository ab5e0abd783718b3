"""Reads of the drivers' side: the public finder (every published station with its live
availability, in two queries), the ranking of "the most convenient free station", a driver's
own sessions, receipts and spend, and the tips of a station.

The finder is public: it reads published listings only and shows no identity, no token and
nothing about who charges.  A driver's data is read through ``driver_*`` functions that take
the driver: there is no other path to it.
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
import math
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.charging.models import ChargingSession
from apps.core import policies
from apps.stations.choices import ConnectorStatus
from apps.stations.models import Connector, Station

from . import journal
from .choices import Access, CardStatus, TipStatus
from .models import Driver, DriverCard, Tip, TipVote

STATION_FIELDS = (
    "pk",
    "name",
    "identity",
    "site_id",
    "site__name",
    "site__address",
    "site__city",
    "site__latitude",
    "site__longitude",
    "site__timezone",
    "site__finder_listing__access",
    "site__finder_listing__shared",
    "site__finder_listing__opens_at",
    "site__finder_listing__closes_at",
    "site__finder_listing__access_note",
)


def _published_stations():
    return Station.objects.filter(
        site__finder_listing__published=True,
        site__latitude__isnull=False,
        site__longitude__isnull=False,
    )


def _ports(station_ids=None) -> dict[int, list[list]]:
    """Per station: ``[connector type, kW, free ports, ports]`` per (type, power), counted in
    SQL.  A port is free when its station is online and the port is Available."""
    connectors = Connector.objects.filter(evse__station__site__finder_listing__published=True)
    if station_ids is not None:
        connectors = connectors.filter(evse__station_id__in=station_ids)
    rows = (
        connectors.annotate(power_w=Coalesce("max_power_w", "evse__max_power_w"))
        .values("evse__station_id", "connector_type", "power_w")
        # One row per connector: a port's connectors are of different types (a port with two
        # connectors of one type would count twice; no station describes itself so).
        .annotate(
            total=Count("id"),
            free=Count(
                "id",
                filter=Q(evse__station__is_online=True, evse__status=ConnectorStatus.AVAILABLE),
            ),
        )
        .order_by()
    )
    ports: dict[int, list[list]] = defaultdict(list)
    for row in rows:
        kw = round(row["power_w"] / 1000, 1)
        ports[row["evse__station_id"]].append(
            [row["connector_type"], kw, row["free"], row["total"]]
        )
    return ports


def _hours(opens_at, closes_at) -> str:
    if opens_at is None or closes_at is None:
        return "24/7"
    return f"{opens_at:%H:%M}–{closes_at:%H:%M}"


def _is_open(row: dict, local_times: dict[str, dt.time], now: dt.datetime) -> bool:
    """Within the listing's hours in the site's time (``FinderListing.is_open``, without
    making a model per row: the local time is worked out once per time zone)."""
    opens_at, closes_at = (
        row["site__finder_listing__opens_at"],
        row["site__finder_listing__closes_at"],
    )
    if opens_at is None or closes_at is None:
        return True
    zone = row["site__timezone"]
    local = local_times.get(zone)
    if local is None:
        local = local_times[zone] = now.astimezone(ZoneInfo(zone)).time()
    if opens_at <= closes_at:
        return opens_at <= local < closes_at
    return local >= opens_at or local < closes_at


def _station_row(
    row: dict, ports: list[list], now: dt.datetime, local_times: dict[str, dt.time]
) -> dict[str, Any]:
    address = ", ".join(part for part in (row["site__address"], row["site__city"]) if part)
    return {
        "id": row["pk"],
        "name": row["name"] or row["identity"],
        "site": row["site__name"],
        "address": address,
        "lat": float(row["site__latitude"]),
        "lon": float(row["site__longitude"]),
        "access": row["site__finder_listing__access"],
        "shared": row["site__finder_listing__shared"],
        "hours": _hours(
            row["site__finder_listing__opens_at"], row["site__finder_listing__closes_at"]
        ),
        "open": _is_open(row, local_times, now),
        "note": row["site__finder_listing__access_note"],
        "ports": sorted(ports, key=lambda p: (-p[1], p[0])),
        "free": sum(p[2] for p in ports),
        "total": sum(p[3] for p in ports),
    }


# The whole network's rows are kept per process (a ``Snapshot``), read in full from the
# database at most every FINDER_CACHE_SECONDS (in the background: requests keep being answered
# from the previous one) and kept current in between by the journal of stations that changed
# (apps/drivers/journal.py, written where the live feed is published): every SYNC_SECONDS a
# request asks Redis which stations changed and replaces just those rows.  A process that
# starts takes the last snapshot another process shared in Redis, instead of reading the
# whole network on a driver's request.  What changes is also pushed to the open pages by the
# live feed (apps.drivers.live); a page that (re)connects reads the rows again.
@dataclass
class Snapshot:
    read_at: float  # wall time when the full read began
    checked: float  # monotonic time of the last look at the journal
    synced_to: float  # wall time up to which the journal has been applied
    stations: list[dict[str, Any]]
    position: dict[int, int]  # station id -> index in ``stations``
    changed_at: dict[int, float] = field(default_factory=dict)  # journal times applied
    generation: int | None = None  # of the listings (journal.invalidate), when read


_snapshots: dict[str, Snapshot] = {}
_snapshot_lock = threading.Lock()
_refreshing: set[str] = set()
JOURNAL_OVERLAP_SECONDS = 2.0  # re-read this much of the journal: clocks of hosts differ


def _cache_seconds() -> float:
    return float(getattr(settings, "DRIVERS_FINDER_CACHE_SECONDS", 60.0))


def _sync_seconds() -> float:
    return float(getattr(settings, "DRIVERS_FINDER_SYNC_SECONDS", 0.5))


def _build_snapshot(at: dt.datetime) -> list[dict[str, Any]]:
    rows = _published_stations().order_by("site__name", "name", "pk").values(*STATION_FIELDS)
    ports = _ports()
    local_times: dict[str, dt.time] = {}
    return [_station_row(row, ports.get(row["pk"], []), at, local_times) for row in rows]


def _snapshot_of(read_at: float, stations: list[dict[str, Any]]) -> Snapshot:
    return Snapshot(
        read_at=read_at,
        checked=time.monotonic(),
        synced_to=read_at,
        stations=stations,
        position={row["id"]: n for n, row in enumerate(stations)},
    )


def _read_full(schema: str) -> Snapshot:
    generation = journal.generation(schema)
    read_at = time.time()
    stations = _build_snapshot(timezone.now())
    journal.snapshot_store(schema, read_at, stations)
    snap = _snapshot_of(read_at, stations)
    snap.generation = generation
    return _apply_journal(schema, snap)


def _apply_journal(schema: str, snap: Snapshot) -> Snapshot:
    """``snap`` with the rows the journal has changed since it was last synced (a new list
    when something changed: rankings and the map's document are kept per list)."""
    if snap.generation is not None and journal.generation(schema) not in (None, snap.generation):
        return _read_full(schema)  # the listings changed: read them now
    changes = journal.changed_since(schema, snap.synced_to - JOURNAL_OVERLAP_SECONDS)
    snap.checked = time.monotonic()
    if not changes:
        return snap
    stations = None
    for changed_at, row in changes:
        index = snap.position.get(row["id"])
        if index is None or snap.changed_at.get(row["id"], 0.0) >= changed_at:
            continue  # a station listed since the full read waits for the next one
        stations = stations if stations is not None else list(snap.stations)
        stations[index] = row
        snap.changed_at[row["id"]] = changed_at
    newest = max(changed_at for changed_at, _ in changes)
    if stations is None:
        snap.synced_to = max(snap.synced_to, newest)
        return snap
    return Snapshot(
        read_at=snap.read_at,
        checked=snap.checked,
        synced_to=max(snap.synced_to, newest),
        stations=stations,
        position=snap.position,
        changed_at=snap.changed_at,
        generation=snap.generation,
    )


def _refresh_in_background(tenant) -> None:
    """Read the tenant's network again on a thread of its own (its own database connection),
    while requests keep being answered from the current snapshot."""
    key = tenant.schema_name

    def run() -> None:
        try:
            connection.set_tenant(tenant)
            fresh = _read_full(key)
            with _snapshot_lock:
                _snapshots[key] = fresh
        finally:
            _refreshing.discard(key)
            connection.close()

    with _snapshot_lock:
        if key in _refreshing:
            return
        _refreshing.add(key)
    threading.Thread(target=run, name=f"finder-{key}", daemon=True).start()


def finder_stations(*, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Every published station with its live availability (what the map and the list need;
    no price: that is asked for the few stations a driver looks at): this process's snapshot
    kept current by the journal, else the one shared in Redis, else two queries."""
    ttl = _cache_seconds()
    if now is not None or ttl <= 0:
        return _build_snapshot(now or timezone.now())
    key = connection.schema_name
    snap = _snapshots.get(key)
    if snap is None:
        generation = journal.generation(key)
        shared = journal.snapshot_load(key)
        if shared is not None:
            snap = _snapshot_of(*shared)
            snap.generation = generation
            snap = _apply_journal(key, snap)
        else:
            snap = _read_full(key)
    elif time.monotonic() - snap.checked >= _sync_seconds():
        snap = _apply_journal(key, snap)
    with _snapshot_lock:
        current = _snapshots.get(key)
        if current is None or current.read_at <= snap.read_at:
            _snapshots[key] = snap
        else:
            snap = current
    if time.time() - snap.read_at >= ttl and getattr(connection, "tenant", None):
        _refresh_in_background(connection.tenant)
    return snap.stations


def map_rows(stations: list[dict[str, Any]]) -> list[list]:
    """The map's markers, compact: ``[id, name, lat, lon, free ports, ports]``."""
    return [[s["id"], s["name"], s["lat"], s["lon"], s["free"], s["total"]] for s in stations]


_map_documents: dict[str, tuple[list, float, bytes]] = {}
MAP_DOCUMENT_SECONDS = 2.0  # the open maps get each change pushed by the live feed meanwhile


def map_document(stations: list[dict[str, Any]]) -> bytes:
    """``{"stations": map_rows(...)}`` as JSON, encoded once per snapshot of the network and
    at most every MAP_DOCUMENT_SECONDS while the journal changes rows."""
    key = connection.schema_name
    known = _map_documents.get(key)
    if known is not None and (
        known[0] is stations or time.monotonic() - known[1] < MAP_DOCUMENT_SECONDS
    ):
        return known[2]
    document = json.dumps({"stations": map_rows(stations)}, separators=(",", ":")).encode()
    _map_documents[key] = (stations, time.monotonic(), document)
    return document


def finder_station(*, station_id: int, now: dt.datetime | None = None) -> dict[str, Any] | None:
    row = _published_stations().filter(pk=station_id).values(*STATION_FIELDS).first()
    if row is None:
        return None
    ports = _ports([station_id])
    return _station_row(row, ports.get(station_id, []), now or timezone.now(), {})


def finder_station_rows(*, station_ids, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """``finder_station`` for many stations (the published ones among them), in two queries."""
    rows = list(_published_stations().filter(pk__in=station_ids).values(*STATION_FIELDS))
    if not rows:
        return []
    ports = _ports([row["pk"] for row in rows])
    now = now or timezone.now()
    return [_station_row(row, ports.get(row["pk"], []), now, {}) for row in rows]


def queue_lengths(station_ids=None) -> dict[int, int]:
    """Drivers waiting per station (the waitlist answers); None: every station with a queue."""
    ids = None if station_ids is None else list(station_ids)
    return policies.ask(policies.QUEUE_LENGTHS, station_ids=ids) or {}


PRICE_CACHE_SECONDS = 300  # a tariff change shows in the finder's ranking within this


def prices_for(station_ids: list[int]) -> dict[int, dict[str, Any] | None]:
    """``price_for`` of several stations, kept a few minutes in the cache (Redis, per tenant
    through its key function): the ranking asks for the same stations again and again."""
    keys = {f"drivers.price:{pk}": pk for pk in station_ids}
    found = cache.get_many(list(keys))
    prices = {keys[key]: value["price"] for key, value in found.items()}
    missing = [pk for pk in station_ids if pk not in prices]
    fresh = {pk: price_for(pk) for pk in missing}
    if fresh:
        cache.set_many(
            {f"drivers.price:{pk}": {"price": price} for pk, price in fresh.items()},
            PRICE_CACHE_SECONDS,
        )
    return {**prices, **fresh}


def price_for(station_id: int) -> dict[str, Any] | None:
    """The price a driver would pay here now, from billing (``DRIVER_PRICE``), or None."""
    station = Station.objects.select_related("site").filter(pk=station_id).first()
    if station is None:
        return None
    return policies.ask(policies.DRIVER_PRICE, station=station)


# --- The most convenient station -------------------------------------------------------------
# "Convenient" is measured in minutes until a typical top-up is done, the way a driver weighs
# it: driving there, waiting for a port, charging TOP_UP_KWH, and the price counted as
# MINUTES_PER_CURRENCY_UNIT minutes per unit of the network's currency.  docs/drivers.md.
TOP_UP_KWH = Decimal("20")
DRIVE_MINUTES_PER_KM = 2.6  # 30 km/h in town, roads 1.3 x the straight line
WAIT_PER_DRIVER_MINUTES = 30.0  # per driver ahead of you, per port
MINUTES_PER_CURRENCY_UNIT = 4.0
PRICED_CANDIDATES = 20  # price is asked only for the best this many (it costs queries)


@dataclass
class Preferences:
    connector_type: str = ""
    min_kw: float = 0.0
    free_only: bool = False
    public_only: bool = False
    open_only: bool = True


@dataclass
class Ranked:
    station: dict[str, Any]
    distance_km: float | None
    minutes: float
    parts: dict[str, float] = field(default_factory=dict)
    price: dict[str, Any] | None = None


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def matching_ports(station: dict, prefs: Preferences) -> list[list]:
    if not prefs.connector_type and not prefs.min_kw:
        return station["ports"]
    return [
        port
        for port in station["ports"]
        if (not prefs.connector_type or port[0] == prefs.connector_type) and port[1] >= prefs.min_kw
    ]


def typical_cost(price: dict[str, Any] | None) -> Decimal | None:
    """What TOP_UP_KWH would cost in about an hour, from the price's components (the session
    fee, the first energy rate and the first time rate); None when nothing is known."""
    if not price or not price.get("components"):
        return None
    total = Decimal("0")
    seen = set()
    for part in price["components"]:
        kind = part.get("kind")
        if kind in seen:
            continue
        if kind == "session_fee":
            total += Decimal(str(part["amount"]))
        elif kind == "energy":
            total += Decimal(str(part["price_per_kwh"])) * TOP_UP_KWH
        elif kind == "time":
            total += Decimal(str(part["price_per_hour"]))
        else:
            continue
        seen.add(kind)
    return total


def _minutes(ports: list[list], km: float | None, queue: int) -> tuple[float, float, float, float]:
    """(total, drive, wait, charge) minutes for a top-up here (see the constants above)."""
    free = total = 0
    best_free_kw = best_kw = 0.0
    for _, kw, port_free, port_total in ports:
        free += port_free
        total += port_total
        best_kw = max(best_kw, kw)
        if port_free:
            best_free_kw = max(best_free_kw, kw)
    drive = (km or 0.0) * DRIVE_MINUTES_PER_KM
    wait = 0.0 if free else (queue + 1) * WAIT_PER_DRIVER_MINUTES / max(total, 1)
    charge = float(TOP_UP_KWH) / max(min(best_free_kw or best_kw, 150.0), 1.0) * 60
    return drive + wait + charge, drive, wait, charge


_rankings: dict[tuple, tuple[list, float, list[Ranked]]] = {}
RANKING_REUSE_SECONDS = 2.0  # the open pages get each change pushed by the live feed meanwhile


def rank_cached(
    stations: list[dict[str, Any]],
    *,
    origin: tuple[float, float] | None,
    prefs: Preferences,
    limit: int = 20,
) -> list[Ranked]:
    """``rank`` remembered for the same question (origin to about 100 m, the same filters):
    drivers opening the finder at once share the work.  An answer serves the snapshot it was
    ranked on, and for RANKING_REUSE_SECONDS the snapshots the journal of changes makes from
    it (as the map's document)."""
    place = None if origin is None else (round(origin[0], 3), round(origin[1], 3))
    key = (connection.schema_name, place, tuple(vars(prefs).values()), limit)
    known = _rankings.get(key)
    if known is not None and (
        known[0] is stations or time.monotonic() - known[1] < RANKING_REUSE_SECONDS
    ):
        return known[2]
    result = rank(stations, origin=origin, prefs=prefs, limit=limit)
    if _cache_seconds() > 0:
        if len(_rankings) > 1024:
            _rankings.clear()
        _rankings[key] = (stations, time.monotonic(), result)
    return result


# A ranking from a place looks at the stations near it first: the network's stations are put
# in cells of GRID_DEGREES (per snapshot), the cells visited nearest first, and the visit
# stops once the PRICED_CANDIDATES-th best top-up so far is quicker than the quickest top-up
# any further cell could offer (driving there at least, plus the fastest charge).  The result
# is the exhaustive ranking's (tests/drivers/test_finder.py compares them); a place further
# than GRID_REACH_KM from every cell is ranked exhaustively.
GRID_DEGREES = 0.1
GRID_MIN_STATIONS = 500
GRID_REACH_KM = 300.0
# The straight line to the nearest corner or edge of a cell, worked out on the lat/lon
# rectangle, is within a few per cent of the true shortest line at these distances.
GRID_BOUND_FACTOR = 0.9
FASTEST_CHARGE_MINUTES = float(TOP_UP_KWH) / 150.0 * 60
_grids: dict[str, tuple[object, dict[tuple[int, int], list[int]]]] = {}


def _grid(stations: list[dict[str, Any]]) -> dict[tuple[int, int], list[int]]:
    """Cell -> positions in ``stations``; one per snapshot read (the journal replaces rows in
    place: positions and coordinates stay until the next full read)."""
    schema = connection.schema_name
    snap = _snapshots.get(schema)
    anchor = snap.position if snap is not None and snap.stations is stations else stations
    known = _grids.get(schema)
    if known is not None and known[0] is anchor:
        return known[1]
    cells: dict[tuple[int, int], list[int]] = defaultdict(list)
    for position, station in enumerate(stations):
        cell = (
            math.floor(station["lat"] / GRID_DEGREES),
            math.floor(station["lon"] / GRID_DEGREES),
        )
        cells[cell].append(position)
    _grids[schema] = (anchor, cells)
    return cells


def _cell_bound_km(origin: tuple[float, float], cell: tuple[int, int]) -> float:
    lat = min(max(origin[0], cell[0] * GRID_DEGREES), (cell[0] + 1) * GRID_DEGREES)
    lon = min(max(origin[1], cell[1] * GRID_DEGREES), (cell[1] + 1) * GRID_DEGREES)
    return distance_km(origin[0], origin[1], lat, lon) * GRID_BOUND_FACTOR


def _score(
    stations: list[dict[str, Any]],
    positions,
    origin: tuple[float, float] | None,
    prefs: Preferences,
    queues: dict[int, int],
) -> list[tuple[float, int, float | None, list[list]]]:
    """(minutes, position, km, ports) of the stations at ``positions`` that fit ``prefs``."""
    scored = []
    for position in positions:
        station = stations[position]
        ports = matching_ports(station, prefs)
        if not ports:
            continue
        if prefs.free_only and not any(p[2] for p in ports):
            continue
        if prefs.public_only and station["access"] != Access.PUBLIC:
            continue
        if prefs.open_only and not station["open"]:
            continue
        km = distance_km(origin[0], origin[1], station["lat"], station["lon"]) if origin else None
        minutes = _minutes(ports, km, queues.get(station["id"], 0))[0]
        scored.append((minutes, position, km, ports))
    return scored


def _score_near(
    stations: list[dict[str, Any]],
    origin: tuple[float, float],
    prefs: Preferences,
    queues: dict[int, int],
    wanted: int,
) -> list[tuple[float, int, float | None, list[list]]] | None:
    """``_score`` of the cells near ``origin`` that can hold one of the ``wanted`` best;
    None when the place is too far from the network (rank exhaustively)."""
    cells = sorted((_cell_bound_km(origin, cell), cell) for cell in _grid(stations))
    if not cells or cells[0][0] > GRID_REACH_KM:
        return None
    grid = _grid(stations)
    scored: list = []
    worst_kept: list[tuple[float, int]] = []  # max-heap (negated) of the wanted best so far
    for bound_km, cell in cells:
        if (
            len(worst_kept) >= wanted
            and -worst_kept[0][0] < bound_km * DRIVE_MINUTES_PER_KM + FASTEST_CHARGE_MINUTES
        ):
            break
        for item in _score(stations, grid[cell], origin, prefs, queues):
            scored.append(item)
            heapq.heappush(worst_kept, (-item[0], -item[1]))
            if len(worst_kept) > wanted:
                heapq.heappop(worst_kept)
    return scored


def rank(
    stations: list[dict[str, Any]],
    *,
    origin: tuple[float, float] | None,
    prefs: Preferences,
    limit: int = 20,
    price=None,
    queues: dict[int, int] | None = None,
    exhaustive: bool = False,
) -> list[Ranked]:
    """The stations that fit ``prefs``, most convenient first (see the constants above).
    ``price``: station id -> price (tests); by default billing's, cached (``prices_for``).
    ``queues``: station id -> drivers waiting (tests); by default the waitlist's."""
    queues = queue_lengths() if queues is None else queues
    wanted = max(limit, PRICED_CANDIDATES)
    scored = None
    if origin is not None and not exhaustive and len(stations) >= GRID_MIN_STATIONS:
        scored = _score_near(stations, origin, prefs, queues, wanted)
    if scored is None:
        scored = _score(stations, range(len(stations)), origin, prefs, queues)
    best = []
    for _, position, km, ports in heapq.nsmallest(wanted, scored):
        station = stations[position]
        queue = queues.get(station["id"], 0)
        minutes, drive, wait, charge = _minutes(ports, km, queue)
        best.append(
            Ranked(
                station={**station, "queue": queue},
                distance_km=km,
                minutes=minutes,
                parts={"drive": drive, "wait": wait, "charge": charge, "price": 0.0},
            )
        )
    candidates = best[:PRICED_CANDIDATES]
    if price is None:
        prices = prices_for([item.station["id"] for item in candidates])
    else:
        prices = {item.station["id"]: price(item.station["id"]) for item in candidates}
    for item in candidates:
        item.price = prices.get(item.station["id"])
        cost = typical_cost(item.price)
        if cost is not None:
            item.parts["price"] = float(cost) * MINUTES_PER_CURRENCY_UNIT
            item.minutes += item.parts["price"]
    best.sort(key=lambda r: r.minutes)
    return best[:limit]


# --- A driver's own data ---------------------------------------------------------------------
def driver_cards(driver: Driver):
    return DriverCard.objects.filter(driver=driver).select_related("token").order_by("id")


def verified_card_uids(driver: Driver) -> list[str]:
    return list(
        DriverCard.objects.filter(driver=driver, status=CardStatus.VERIFIED)
        .order_by("id")
        .values_list("token__uid", flat=True)
    )


def driver_queue_places(driver: Driver) -> list[dict[str, Any]]:
    """The driver's current places in queues (their verified cards'), as the waitlist
    answers (policy DRIVER_QUEUES); none without the waitlist."""
    uids = verified_card_uids(driver)
    if not uids:
        return []
    return policies.ask(policies.DRIVER_QUEUES, token_uids=uids) or []


def driver_sessions(driver: Driver):
    """Sessions of the driver's verified cards since each was linked (a card's earlier
    sessions may be a previous holder's)."""
    cards = DriverCard.objects.filter(driver=driver, status=CardStatus.VERIFIED).values(
        "token__uid", "requested_at"
    )
    condition = Q(pk__in=[])
    for card in cards:
        condition |= Q(id_token=card["token__uid"], started_at__gte=card["requested_at"])
    return (
        ChargingSession.objects.filter(condition)
        .select_related("station__site")
        .order_by("-started_at", "-pk")
    )


def receipts_for(session_ids) -> dict[int, dict[str, Any]]:
    session_ids = list(session_ids)
    if not session_ids:
        return {}
    return policies.ask(policies.SESSION_RECEIPTS, session_ids=session_ids) or {}


def driver_totals(driver: Driver) -> dict[str, Any]:
    """Energy and spend over all the driver's sessions (spend per currency, from receipts)."""
    sessions = list(driver_sessions(driver).values_list("pk", "energy_wh"))
    receipts = receipts_for(pk for pk, _ in sessions)
    spend: dict[str, Decimal] = defaultdict(Decimal)
    for receipt in receipts.values():
        spend[receipt["currency"]] += Decimal(str(receipt["total"]))
    return {
        "sessions": len(sessions),
        "energy_wh": sum(energy for _, energy in sessions),
        "spend": dict(sorted(spend.items())),
    }


def driver_session(driver: Driver, session_id: int) -> ChargingSession | None:
    return driver_sessions(driver).filter(pk=session_id).first()


# --- Tips -------------------------------------------------------------------------------------
def station_tips(station_id: int):
    return (
        Tip.objects.filter(station_id=station_id, status=TipStatus.PUBLISHED)
        .prefetch_related("photos")
        .order_by("-score", "-created_at")
    )


def driver_votes(driver: Driver | None, tip_ids) -> dict[int, int]:
    if driver is None:
        return {}
    votes = TipVote.objects.filter(driver=driver, tip_id__in=list(tip_ids))
    return dict(votes.values_list("tip_id", "value"))
