"""Reads of the inventory: sites, stations, what the station page shows of the core."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db.models import F, Func, QuerySet
from django.urls import reverse
from django.utils import timezone

from apps.charging.choices import SessionStatus
from apps.charging.filtersets import ChargingSessionFilterSet, IdTokenFilterSet
from apps.charging.models import ChargingSession, IdToken
from apps.charging.selectors import POWER_HISTORY, power_series
from apps.core.scoping import Actor
from apps.ocpp.models import MessageLog, StationEvent
from apps.roles.selectors import people_search

from .choices import LIVE_STATE_OF_STATUS, LiveState
from .filtersets import SiteFilterSet, StationFilterSet
from .models import Site, Station, StationSecuritySettings, StatusChange

# The order in which a station's ports decide the colour of its marker: what needs attention
# first, then whether a driver can still plug in.
STATION_STATE_PRIORITY = (
    LiveState.FAULTED,
    LiveState.AVAILABLE,
    LiveState.CHARGING,
    LiveState.PREPARING,
    LiveState.FINISHED,
    LiveState.RESERVED,
    LiveState.UNAVAILABLE,
)
# The station page's header says what the station is doing: a port charging makes it
# "charging" even when another port is free (the map's marker asks "can I plug in?").
STATION_HEADER_PRIORITY = (
    LiveState.FAULTED,
    LiveState.CHARGING,
    LiveState.PREPARING,
    LiveState.FINISHED,
    LiveState.AVAILABLE,
    LiveState.RESERVED,
    LiveState.UNAVAILABLE,
)


def site_list(*, actor: Actor) -> QuerySet[Site]:
    return Site.objects.restrict(actor, "sites.view")


def station_cso_name() -> str:
    """The current tenant's CSO name for profile 3 certificates ("" when not set)."""
    return StationSecuritySettings.objects.values_list("cso_name", flat=True).first() or ""


def port_state(*, is_online: bool, status: str) -> str:
    """The same rule as ``Evse.live_state``, on plain values (no station object needed)."""
    if not is_online:
        return LiveState.OFFLINE
    return LIVE_STATE_OF_STATUS.get(status, LiveState.UNAVAILABLE)


def station_state(
    *, is_online: bool, port_states: list[str], priority: tuple[str, ...] = STATION_STATE_PRIORITY
) -> str:
    """One colour for a station: offline, else its most important port state."""
    if not is_online:
        return LiveState.OFFLINE
    for state in priority:
        if state in port_states:
            return state
    return LiveState.UNAVAILABLE


def station_header_state(*, is_online: bool, port_states: list[str]) -> str:
    """What the station page's header says: busy before free."""
    return station_state(
        is_online=is_online, port_states=port_states, priority=STATION_HEADER_PRIORITY
    )


def inventory_choices(*, actor: Actor) -> dict[str, list[str]]:
    """Vendors, models, firmware versions and tags among the actor's stations (filter
    suggestions)."""
    stations = Station.objects.restrict(actor, "stations.view").order_by()

    def distinct(field_name: str) -> list[str]:
        return list(
            stations.exclude(**{field_name: ""})
            .values_list(field_name, flat=True)
            .distinct()
            .order_by(field_name)[:200]
        )

    return {
        "vendors": distinct("vendor"),
        "models": distinct("model"),
        "firmware": distinct("firmware_version"),
        "tags": station_tags_in_use(actor=actor),
    }


def station_tags_in_use(*, actor: Actor, limit: int = 200) -> list[str]:
    """The tags on the actor's stations, alphabetically."""
    stations = Station.objects.restrict(actor, "stations.view").order_by()
    tags = (
        stations.annotate(tag=Func(F("tags"), function="unnest"))
        .values_list("tag", flat=True)
        .distinct()
        .order_by("tag")
    )
    return list(tags[:limit])


def station_sessions_now(*, station: Station, actor: Actor) -> dict[str, Any]:
    """The station's running sessions with their recent power (the live sessions panel);
    nothing when the actor may not see sessions on its site."""
    if not actor.scope_for("sessions.view").covers_site(station.site_id):
        return {"active_sessions": [], "power_series": {}}
    active = list(
        ChargingSession.objects.restrict(actor, "sessions.view")
        .filter(station=station, status=SessionStatus.ACTIVE)
        .select_related("evse", "token")
        .order_by("evse__evse_id")
    )
    series = power_series(
        session_ids=[session.pk for session in active], since=timezone.now() - POWER_HISTORY
    )
    return {
        "active_sessions": active,
        "power_series": {str(session_id): points for session_id, points in series.items()},
    }


def station_page(*, station: Station, actor: Actor) -> dict[str, Any]:
    """What the station page shows of the core (features add panels), in a fixed number of
    queries whatever the number of ports and sessions."""
    ports = list(station.evses.order_by("evse_id").prefetch_related("connectors"))
    for port in ports:
        port.station = station  # live_state reads the station's link; no query per port
    context: dict[str, Any] = {"ports": ports, **station_sessions_now(station=station, actor=actor)}
    if actor.scope_for("sessions.view").covers_site(station.site_id):
        context["recent_sessions"] = list(
            ChargingSession.objects.restrict(actor, "sessions.view")
            .filter(station=station)
            .exclude(status=SessionStatus.ACTIVE)
            .select_related("evse", "token")
            .order_by("-started_at")[:10]
        )
    by_port = {session.evse.evse_id: session for session in context["active_sessions"]}
    for port in ports:
        port.active_session = by_port.get(port.evse_id)
    context["message_log"] = list(
        MessageLog.objects.restrict(actor, "stations.view")
        .filter(station=station)
        .order_by("-created_at", "-id")[:25]
    )
    context["status_history"] = list(
        StatusChange.objects.restrict(actor, "stations.view")
        .filter(station=station)
        .select_related("evse")[:20]
    )
    context["firmware_events"] = list(
        StationEvent.objects.restrict(actor, "stations.view").filter(
            station=station, kind=StationEvent.Kind.FIRMWARE
        )[:10]
    )
    context["station_state"] = station_header_state(
        is_online=station.is_online, port_states=[port.live_state for port in ports]
    )
    return context


# --- The portal's one search box -----------------------------------------------------------
SEARCH_LIMIT = 10


def portal_search(*, actor: Actor, query: str, limit: int = SEARCH_LIMIT) -> list[dict[str, Any]]:
    """Stations, sites, tokens, sessions and people matching ``query`` by id, name or serial
    (people: e-mail or name), within
    the caller's scope: each kind through its FilterSet's ``q`` (the lists' and the API's
    search) on the queryset ``restrict`` gives, so a kind the caller may not see is empty."""
    query = query.strip()
    if not query:
        return []
    kinds = (
        ("stations", Station, "stations.view", StationFilterSet, "stations:station_list"),
        ("sites", Site, "sites.view", SiteFilterSet, "stations:site_list"),
        ("tokens", IdToken, "tokens.view", IdTokenFilterSet, "charging:token_list"),
        (
            "sessions",
            ChargingSession,
            "sessions.view",
            ChargingSessionFilterSet,
            "charging:session_list",
        ),
    )
    groups = []
    for kind, model, permission, filterset_class, list_url in kinds:
        queryset = model.objects.restrict(actor, permission)
        found = filterset_class({"q": query}, queryset=queryset).qs
        if kind == "sessions":
            if query.isdigit():  # a session's own number, as its page shows it
                found = found | queryset.filter(pk=int(query))
            found = found.select_related("station").order_by("-started_at")
        rows = list(found[: limit + 1])
        if rows:
            groups.append(
                {
                    "kind": kind,
                    "rows": rows[:limit],
                    "more": len(rows) > limit,
                    "list_url": f"{reverse(list_url)}?{urlencode({'q': query})}",
                }
            )
    people = list(people_search(actor=actor, query=query)[: limit + 1])
    if people:
        groups.append(
            {
                "kind": "people",
                "rows": people[:limit],
                "more": len(people) > limit,
                "list_url": f"{reverse('roles:assignment_list')}?{urlencode({'q': query})}",
            }
        )
    return groups
