"""Reads for access control: the records the engine decides on, and the decision itself."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from apps.charging.models import IdToken
from apps.stations.models import Station

from . import engine
from .choices import Level
from .models import AccessGroup, AccessRule, Holiday, RuleWindow


def rules_for_place(*, station: Station, evse_id: int | None) -> list[engine.Rule]:
    """Every rule of the station's site, of the station, and of the port (when known)."""
    place = Q(site_id=station.site_id) | Q(station_id=station.pk)
    if evse_id is not None:
        place |= Q(evse__station_id=station.pk, evse__evse_id=evse_id)
    rows = list(
        AccessRule.objects.filter(place, scope_site_id=station.site_id).values(
            "id",
            "name",
            "kind",
            "site_id",
            "station_id",
            "evse_id",
            "date_from",
            "date_to",
            "holidays",
        )
    )
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    windows: dict[int, list[engine.Window]] = defaultdict(list)
    for rule_id, weekday, start, end in RuleWindow.objects.filter(rule_id__in=ids).values_list(
        "rule_id", "weekday", "start", "end"
    ):
        windows[rule_id].append(engine.Window(weekday, start, end))
    groups: dict[int, set[int]] = defaultdict(set)
    for rule_id, group_id in AccessRule.groups.through.objects.filter(
        accessrule_id__in=ids
    ).values_list("accessrule_id", "accessgroup_id"):
        groups[rule_id].add(group_id)
    return [
        engine.Rule(
            id=row["id"],
            name=row["name"],
            level=Level.PORT
            if row["evse_id"]
            else Level.STATION
            if row["station_id"]
            else Level.SITE,
            kind=row["kind"],
            group_ids=frozenset(groups[row["id"]]),
            schedule=engine.Schedule(
                windows=tuple(windows[row["id"]]),
                date_from=row["date_from"],
                date_to=row["date_to"],
                holidays=row["holidays"],
            ),
        )
        for row in rows
    ]


def token_group_ids(*, uid: str) -> frozenset[int]:
    return frozenset(
        AccessGroup.tokens.through.objects.filter(idtoken__uid=uid).values_list(
            "accessgroup_id", flat=True
        )
    )


def holidays_for_site(*, site_id: int, around: dt.date) -> frozenset[dt.date]:
    """The site's and the tenant-wide holidays on the days a decision can look at."""
    days = (around - dt.timedelta(days=1), around, around + dt.timedelta(days=1))
    return frozenset(
        Holiday.objects.filter(
            Q(site_id=site_id) | Q(site__isnull=True), date__in=days
        ).values_list("date", flat=True)
    )


def access_decision(
    *, uid: str, station: Station, evse_id: int | None = None, moment: dt.datetime | None = None
) -> engine.Decision:
    """May ``uid`` charge at ``station`` (port ``evse_id``) at ``moment`` (default now)?  The
    answer carries the steps that explain it (the portal's "why refused" tool shows them)."""
    moment = moment or timezone.now()
    rules = rules_for_place(station=station, evse_id=evse_id)
    tz = ZoneInfo(station.site.timezone)
    if not rules:
        return engine.decide(rules=(), token_groups=frozenset(), moment=moment, tz=tz)
    return engine.decide(
        rules=rules,
        token_groups=token_group_ids(uid=uid),
        moment=moment,
        tz=tz,
        holidays=holidays_for_site(site_id=station.site_id, around=moment.astimezone(tz).date()),
        port_known=evse_id is not None,
    )


def token_known(*, uid: str) -> bool:
    return IdToken.objects.filter(uid=uid).exists()
