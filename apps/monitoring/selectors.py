"""Reads: alerts, who should hear about them, and uptime per station."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.audit.models import AuditEntry
from apps.core.scoping import Actor
from apps.ocpp import payloads
from apps.ocpp.models import StationEvent
from apps.roles.selectors import UserActor
from apps.stations.choices import StatusKind
from apps.stations.models import Station, StatusChange

from .choices import AlertKind
from .models import Alert, AlertSubscription

ONLINE, OFFLINE = "Online", "Offline"


def alert_list(*, actor: Actor) -> QuerySet[Alert]:
    return Alert.objects.restrict(actor, "stations.view").select_related(
        "station", "station__site", "evse"
    )


def alert_summary(*, alert_id: int) -> dict[str, Any] | None:
    """What the live feed says about an alert (unscoped: the consumer filters by site)."""
    alert = Alert.objects.select_related("station", "evse").filter(pk=alert_id).first()
    if alert is None:
        return None
    return {
        "alert_id": alert.pk,
        "alert_kind": alert.kind,
        "title": str(alert),
        "message": alert.message,
        "station_id": alert.station_id,
        "site_id": alert.station.site_id,
        "evse_id": alert.evse.evse_id if alert.evse_id else None,
        "raised_at": alert.raised_at.isoformat(),
        "cleared_at": alert.cleared_at.isoformat() if alert.cleared_at else None,
    }


def alert_subscription_of(*, user) -> AlertSubscription | None:
    return AlertSubscription.objects.filter(user=user).prefetch_related("sites").first()


def alert_recipients(*, alert: Alert, cleared: bool) -> list:
    """People who asked for this kind of alert on this site, and may still see the station."""
    site_id = alert.station.site_id
    subscriptions = (
        AlertSubscription.objects.filter(kinds__contains=[alert.kind], user__is_active=True)
        .filter(Q(all_sites=True) | Q(sites__pk=site_id))
        .select_related("user")
        .distinct()
    )
    if cleared:
        subscriptions = subscriptions.filter(notify_on_clear=True)
    return [
        subscription.user
        for subscription in subscriptions
        if UserActor(subscription.user).scope_for("stations.view").covers_site(site_id)
    ]


# --- Uptime ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Uptime:
    window: dt.timedelta
    online: dt.timedelta
    faulted: dt.timedelta
    alerts: int

    @property
    def online_ratio(self) -> float | None:
        if not self.window:
            return None
        return self.online / self.window

    @property
    def online_percent(self) -> float | None:
        ratio = self.online_ratio
        return None if ratio is None else round(ratio * 100, 2)

    @property
    def offline(self) -> dt.timedelta:
        return self.window - self.online


def _overlap(start: dt.datetime, end: dt.datetime, lo: dt.datetime, hi: dt.datetime):
    begin, finish = max(start, lo), min(end, hi)
    return finish - begin if finish > begin else dt.timedelta(0)


def station_uptime(
    *, stations: Iterable[Station], start: dt.datetime, end: dt.datetime | None = None
) -> dict[int, Uptime]:
    """Connectivity uptime per station over [start, end), from the online/offline history,
    plus time with a faulted port and the number of alerts, from the alerts.

    The window of a station begins when it was created if that is later than ``start``.
    Three queries whatever the number of stations.
    """
    end = end or timezone.now()
    stations = list(stations)
    ids = [station.pk for station in stations]
    if not ids:
        return {}
    connection_changes = StatusChange.objects.filter(
        station_id__in=ids, kind=StatusKind.CONNECTION
    ).order_by()
    # Each station's link state as the window opens: its last change before it.
    before = dict(
        connection_changes.filter(occurred_at__lt=start)
        .order_by("station_id", "-occurred_at", "-id")
        .distinct("station_id")
        .values_list("station_id", "status")
    )
    changes: dict[int, list[tuple[dt.datetime, str]]] = {}
    for station_id, status, at in (
        connection_changes.filter(occurred_at__gte=start, occurred_at__lt=end)
        .order_by("station_id", "occurred_at", "id")
        .values_list("station_id", "status", "occurred_at")
    ):
        changes.setdefault(station_id, []).append((at, status))
    faulted: dict[int, dt.timedelta] = {}
    alert_count: dict[int, int] = {}
    for station_id, kind, raised, cleared in (
        Alert.objects.filter(station_id__in=ids, raised_at__lt=end)
        .filter(Q(cleared_at__isnull=True) | Q(cleared_at__gt=start))
        .values_list("station_id", "kind", "raised_at", "cleared_at")
    ):
        alert_count[station_id] = alert_count.get(station_id, 0) + 1
        if kind == AlertKind.FAULTED:
            faulted[station_id] = faulted.get(station_id, dt.timedelta(0)) + _overlap(
                raised, cleared or end, start, end
            )
    result: dict[int, Uptime] = {}
    for station in stations:
        window_start = max(start, station.created_at) if station.created_at else start
        window = end - window_start if end > window_start else dt.timedelta(0)
        online = dt.timedelta(0)
        state, since = before.get(station.pk, OFFLINE), window_start
        for at, status in changes.get(station.pk, []):
            at = max(at, window_start)
            if state == ONLINE:
                online += at - since
            state, since = status, at
        if state == ONLINE:
            online += end - since
        result[station.pk] = Uptime(
            window=window,
            online=min(online, window),
            faulted=min(faulted.get(station.pk, dt.timedelta(0)), window),
            alerts=alert_count.get(station.pk, 0),
        )
    return result


def station_known_settings(*, station: Station, limit: int = 500) -> list[dict[str, Any]]:
    """The station's settings as it last reported them, for the configuration picker: 2.0.1
    the parts of its latest NotifyReport; 1.6 its latest full GetConfiguration answer (the
    audit log keeps it).  Rows: ``key``, ``value``, ``readonly``, alphabetical."""

    if station.ocpp_version == payloads.V201:
        reports = StationEvent.objects.filter(
            station=station, kind=StationEvent.Kind.REPORT, action="NotifyReport"
        )
        latest = reports.order_by("-occurred_at", "-id").values_list("request_id", flat=True)
        request_id = latest.first()
        if request_id is None:
            return []
        items = []
        for data in (
            reports.filter(request_id=request_id).order_by("id").values_list("data", flat=True)
        ):
            items.extend(data.get("report_data") or [])
        rows = payloads.reported_settings(items)
    else:
        entry = (
            AuditEntry.objects.filter(
                action="station.configuration_read",
                object_type="stations.station",
                object_id=str(station.pk),
                succeeded=True,
                changes__input__keys=[],
            )
            .order_by("-occurred_at", "-id")
            .first()
        )
        responses = (entry.changes.get("responses") or [{}]) if entry else [{}]
        rows = [
            {
                "key": row.get("key", ""),
                "value": str(row.get("value", "")),
                "readonly": bool(row.get("readonly")),
            }
            for row in (responses[0] or {}).get("configurationKey") or []
        ]
    rows.sort(key=lambda row: row["key"].lower())
    return rows[:limit]
