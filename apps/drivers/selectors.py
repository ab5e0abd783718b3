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
        "hours": _hours(
            row["site__finder_listing__opens_at"], row["site__finder_listing__closes_at"]
        ),
        "open": _is_open(row, local_times, now),
        "note": row["site__finder_listing__access_note"],
        "ports": sorted(ports, key=lambda p: (-p[1], p[0])),
        "free": sum(p[2] for p in ports),
        "total": sum(p[3] for p in ports),
    }


# The whole network's rows are kept a moment per process: a busy finder (many drivers opening
# it at once) reads the database once per FINDER_CACHE_SECONDS, not once per page.  What
# changes meanwhile is pushed to the open pages by the live feed (apps.drivers.live), and a
# page that (re)connects to the feed asks for the rows again, so it misses nothing.
_snapshots: dict[str, tuple[float, list[dict[str, Any]]]] = {}
_snapshot_lock = threading.Lock()


def _cache_seconds() -> float:
    return float(getattr(settings, "DRIVERS_FINDER_CACHE_SECONDS", 2.0))


def _build_snapshot(at: dt.datetime) -> list[dict[str, Any]]:
    rows = _published_stations().order_by("site__name", "name", "pk").values(*STATION_FIELDS)
    ports = _ports()
    local_times: dict[str, dt.time] = {}
    return [_station_row(row, ports.get(row["pk"], []), at, local_times) for row in rows]


_refreshing: set[str] = set()
MAX_STALE_SECONDS = 30.0  # older than this, a request waits for fresh rows


def _refresh_in_background(tenant) -> None:
    """Rebuild a tenant's snapshot on a thread of its own (its own database connection),
    while requests keep being answered from the previous one."""
    key = tenant.schema_name

    def run() -> None:
        try:
            connection.set_tenant(tenant)
            stations = _build_snapshot(timezone.now())
            with _snapshot_lock:
                _snapshots[key] = (time.monotonic(), stations)
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
    no price: that is asked for the few stations a driver looks at).  Two queries, or the
    snapshot of this process (fresh within FINDER_CACHE_SECONDS; a little older while a new
    one is being read in the background)."""
    ttl = _cache_seconds()
    if now is not None or ttl <= 0:
        return _build_snapshot(now or timezone.now())
    key = connection.schema_name
    cached = _snapshots.get(key)
    age = time.monotonic() - cached[0] if cached is not None else None
    if age is not None and age < ttl:
        return cached[1]
    if age is not None and age < MAX_STALE_SECONDS and getattr(connection, "tenant", None):
        _refresh_in_background(connection.tenant)
        return cached[1]
    stations = _build_snapshot(timezone.now())
    with _snapshot_lock:
        _snapshots[key] = (time.monotonic(), stations)
    return stations


def map_rows(stations: list[dict[str, Any]]) -> list[list]:
    """The map's markers, compact: ``[id, name, lat, lon, free ports, ports]``."""
    return [[s["id"], s["name"], s["lat"], s["lon"], s["free"], s["total"]] for s in stations]


_map_documents: dict[str, tuple[int, bytes]] = {}


def map_document(stations: list[dict[str, Any]]) -> bytes:
    """``{"stations": map_rows(...)}`` as JSON, encoded once per snapshot of the network."""
    key = connection.schema_name
    known = _map_documents.get(key)
    if (
        known is not None
        and known[0] == id(stations)
        and _snapshots.get(key, (0, None))[1] is stations
    ):
        return known[1]
    document = json.dumps({"stations": map_rows(stations)}, separators=(",", ":")).encode()
    _map_documents[key] = (id(stations), document)
    return document


def finder_station(*, station_id: int, now: dt.datetime | None = None) -> dict[str, Any] | None:
    row = _published_stations().filter(pk=station_id).values(*STATION_FIELDS).first()
    if row is None:
        return None
    ports = _ports([station_id])
    return _station_row(row, ports.get(station_id, []), now or timezone.now(), {})


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


_rankings: dict[tuple, list[Ranked]] = {}


def rank_cached(
    stations: list[dict[str, Any]],
    *,
    origin: tuple[float, float] | None,
    prefs: Preferences,
    limit: int = 20,
) -> list[Ranked]:
    """``rank`` of one snapshot of the network, remembered for the same question (origin to
    about 100 m): drivers opening the finder at once share the work."""
    place = None if origin is None else (round(origin[0], 3), round(origin[1], 3))
    key = (connection.schema_name, id(stations), place, tuple(vars(prefs).values()), limit)
    known = _rankings.get(key)
    if known is not None:
        return known
    result = rank(stations, origin=origin, prefs=prefs, limit=limit)
    if _cache_seconds() > 0:
        if len(_rankings) > 256:
            _rankings.clear()
        _rankings[key] = result
    return result


def rank(
    stations: list[dict[str, Any]],
    *,
    origin: tuple[float, float] | None,
    prefs: Preferences,
    limit: int = 20,
    price=None,
) -> list[Ranked]:
    """The stations that fit ``prefs``, most convenient first (see the constants above).
    ``price``: station id -> price (tests); by default billing's, cached (``prices_for``)."""
    queues = queue_lengths()
    scored = []  # (minutes, position, km, ports): a Ranked only for the best few
    for position, station in enumerate(stations):
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
    best = []
    for _, position, km, ports in heapq.nsmallest(max(limit, PRICED_CANDIDATES), scored):
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
