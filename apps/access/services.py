"""Writes on access control: groups, their members, rules with their windows, holidays."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.charging.models import IdToken
from apps.stations.models import Evse, Site, Station

from . import engine
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
    confirm_lockout: bool = False,
) -> AccessRule:
    """Create a rule.  When the place's rules would then admit nobody, ever (engine rule 6),
    the rule is refused unless ``confirm_lockout`` says the owner means it."""
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
    if not confirm_lockout:
        _refuse_lockout(rule=rule)
    return rule


def _refuse_lockout(*, rule: AccessRule) -> None:
    place = {"site": rule.site_id, "station": rule.station_id, "evse": rule.evse_id}
    level = {f"{name}_id": value for name, value in place.items()}
    rules = [
        engine.Rule(
            id=other.pk,
            name=other.name,
            level=other.level,
            kind=other.kind,
            group_ids=frozenset(g.pk for g in other.groups.all()),
            schedule=engine.Schedule(date_from=other.date_from, date_to=other.date_to),
        )
        for other in AccessRule.objects.filter(**level).prefetch_related("groups")
    ]
    populated = frozenset(
        AccessGroup.tokens.through.objects.values_list("accessgroup_id", flat=True).distinct()
    )
    today = timezone.localdate(timezone=ZoneInfo(rule.scope_site.timezone))
    if engine.admits_nobody(rules, populated_groups=populated, today=today):
        raise ValidationError(
            _("With this rule nobody may charge here any more. Confirm to lock everyone out."),
            code="lockout",
        )


@transaction.atomic
def rule_delete(*, rule: AccessRule) -> None:
    rule.delete()


@transaction.atomic
def holiday_create(*, date: dt.date, name: str, site: Site | None = None) -> Holiday:
    holiday = Holiday(date=date, name=name, site=site)
    holiday.full_clean()
    holiday.save()
    return holiday
