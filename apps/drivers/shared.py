"""The platform's shared finder: drivers find the stations of every network that shares them,
on the public host (``/finder/``), without knowing which network runs which station.

A network shares a site by ticking *shared* on its listing (a published listing only: the
rows come from each network's own finder snapshot, which holds published sites only).  Reads
fan out to the networks: for each tenant, its snapshot (``selectors.finder_stations``: kept in
memory and brought up to date by the journal of changes, so no query when warm) filtered to
its shared rows, each row renamed ``<tenant slug>:<station id>`` and given its network's name
and the address of its page on the network's own host.  Nothing else of a tenant is read:
no row of an unshared or unlisted site ever leaves its schema (tested).  Queue lengths and
prices are asked in each network's own schema, for the few stations ranked best.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.shortcuts import render
from django_tenants.utils import tenant_context

from apps.tenants.selectors import tenant_list

from . import selectors
from .forms import FinderForm
from .views import LIST_LIMIT, _port_rows, directions, place_origin

MERGED_SECONDS = 1.0  # the merged rows are kept this long per process

_merged: tuple[float, list[dict[str, Any]], dict[str, Any]] | None = None
_lock = threading.Lock()


def _shared_rows(tenant) -> list[dict[str, Any]]:
    with tenant_context(tenant):
        rows = [row for row in selectors.finder_stations() if row.get("shared")]
        queues = selectors.queue_lengths([row["id"] for row in rows]) if rows else {}
    domain = tenant.get_primary_domain()
    host = domain.domain if domain is not None else ""
    return [
        {
            **row,
            "id": f"{tenant.slug}:{row['id']}",
            "station_id": row["id"],
            "network": tenant.name,
            "network_slug": tenant.slug,
            "host": host,
            "queue": queues.get(row["id"], 0),
        }
        for row in rows
    ]


def shared_stations() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every shared station of every network, and the tenants by slug."""
    global _merged
    known = _merged
    if known is not None and time.monotonic() - known[0] < MERGED_SECONDS:
        return known[1], known[2]
    tenants = {tenant.slug: tenant for tenant in tenant_list().order_by("slug")}
    rows: list[dict[str, Any]] = []
    for tenant in tenants.values():
        rows.extend(_shared_rows(tenant))  # tenant_context puts the schema back after each
    with _lock:
        _merged = (time.monotonic(), rows, tenants)
    return rows, tenants


def rank_shared(
    *, origin: tuple[float, float] | None, prefs: selectors.Preferences, limit: int = 30
) -> list[selectors.Ranked]:
    """The most convenient shared stations: the same ranking as a network's own finder, each
    station priced in its own network."""
    rows, tenants = shared_stations()
    queues = {row["id"]: row["queue"] for row in rows}

    def price(global_id: str):
        slug, station_id = global_id.split(":", 1)
        with tenant_context(tenants[slug]):
            return selectors.prices_for([int(station_id)]).get(int(station_id))

    return selectors.rank(rows, origin=origin, prefs=prefs, limit=limit, price=price, queues=queues)


def shared_finder(request):
    """The public host's finder (no sign-in): the stations every network shares."""
    form = FinderForm(request.GET or None)
    rows, _tenants = shared_stations()
    origin = None
    prefs = selectors.Preferences()
    near_error = ""
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        prefs = selectors.Preferences(
            connector_type=data["connector"],
            min_kw=float(data["min_kw"] or 0),
            free_only=data["free"],
            public_only=data["public"],
        )
        if data["lat"] is not None and data["lon"] is not None:
            origin = (data["lat"], data["lon"])
        elif data["near"]:
            origin = place_origin(data["near"], rows)
            if origin is None:
                near_error = "no-place"
    ranked = rank_shared(origin=origin, prefs=prefs, limit=LIST_LIMIT)
    port = request.get_port()
    scheme = request.scheme
    listed = [
        {
            **item.station,
            "url": (
                f"{scheme}://{item.station['host']}"
                f"{'' if port in ('80', '443') else ':' + port}"
                f"/drivers/stations/{item.station['station_id']}/"
            ),
            "port_rows": _port_rows(item.station),
            "distance_km": item.distance_km,
            "minutes": round(item.minutes),
            "price": (item.price or {}).get("summary", ""),
            "directions": directions(item.station["lat"], item.station["lon"]),
        }
        for item in ranked
    ]
    return render(
        request,
        "drivers/shared_finder.html",
        {
            "form": form,
            "rows": listed,
            "best": listed[0] if listed and origin is not None else None,
            "near_error": near_error,
            "count": len(rows),
            "networks": len({row["network_slug"] for row in rows}),
        },
    )
