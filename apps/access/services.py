"""Writes on access control: groups, their members, rules with their windows, holidays."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction

from apps.charging.models import IdToken
from apps.stations.models import Evse, Site, Station

from .choices import HolidayMode
from .models import AccessGroup, AccessRule, Holiday, RuleWindow

WindowSpec = tuple[int, dt.time, dt.time]  # (weekday, start, end)


@transaction.atomic
def group_create(*, name: str, description: str = "") -> AccessGroup:
    group = AccessGroup(name=name, description=description)
    group.full_clean()
    group.save()
    return group


@transaction.atomic
def group_add_tokens(*, group: AccessGroup, tokens: Iterable[IdToken]) -> None:
    group.tokens.add(*tokens)


@transaction.atomic
def group_remove_tokens(*, group: AccessGroup, tokens: Iterable[IdToken]) -> None:
    group.tokens.remove(*tokens)


def _site_of(*, site: Site | None, station: Station | None, evse: Evse | None) -> Site | None:
    if site is not None:
        return site
    if station is not None:
        return station.site
    if evse is not None:
        return evse.station.site
    return None


@transaction.atomic
def rule_create(
    *,
    name: str,
    kind: str,
    site: Site | None = None,
    station: Station | None = None,
    evse: Evse | None = None,
    groups: Iterable[AccessGroup] = (),
    windows: Iterable[WindowSpec] = (),
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    holidays: str = HolidayMode.AS_USUAL,
) -> AccessRule:
    rule = AccessRule(
        name=name,
        kind=kind,
        site=site,
        station=station,
        evse=evse,
        scope_site=_site_of(site=site, station=station, evse=evse),
        date_from=date_from,
        date_to=date_to,
        holidays=holidays,
    )
    rule.full_clean()
    rule.save()
    rule.groups.set(list(groups))
    for weekday, start, end in windows:
        window = RuleWindow(rule=rule, weekday=weekday, start=start, end=end)
        window.full_clean()
        window.save()
    return rule


@transaction.atomic
def rule_delete(*, rule: AccessRule) -> None:
    rule.delete()


@transaction.atomic
def holiday_create(*, date: dt.date, name: str, site: Site | None = None) -> Holiday:
    holiday = Holiday(date=date, name=name, site=site)
    holiday.full_clean()
    holiday.save()
    return holiday
