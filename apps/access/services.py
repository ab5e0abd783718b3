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
from .choices import HolidayMode, RuleKind
from .models import AccessGroup, AccessGroupMember, AccessRule, Holiday, RuleWindow

WindowSpec = tuple[int, dt.time, dt.time]  # (weekday, start, end)


def _lists_follow(*, site_ids: Iterable[int] | None) -> None:
    """After commit: the stations of these sites (None: every site) get their local lists
    again and their auth caches cleared (local_lists.py)."""
    from . import tasks  # noqa: PLC0415  (to convert to access/queue.py: tests patch .delay)

    ids = None if site_ids is None else sorted(set(site_ids))
    if ids == []:
        return
    transaction.on_commit(lambda: tasks.local_lists_refresh.delay(ids, True))


def _sites_naming(group: AccessGroup) -> list[int]:
    return list(group.rules.values_list("scope_site_id", flat=True).distinct())


@transaction.atomic
def group_create(*, name: str, description: str = "") -> AccessGroup:
    group = AccessGroup(name=name, description=description)
    group.full_clean()
    group.save()
    return group


@transaction.atomic
def group_update(
    *, group: AccessGroup, name: str | None = None, description: str | None = None
) -> AccessGroup:
    """Rename or describe a group (PATCH: only what is given changes)."""
    if name is not None:
        group.name = name
    if description is not None:
        group.description = description
    group.full_clean()
    group.save()
    return group


@transaction.atomic
def group_delete(*, group: AccessGroup) -> None:
    _lists_follow(site_ids=_sites_naming(group))
    group.delete()


class UnknownTokens(ValidationError):
    """Token uids that the token table does not hold."""

    def __init__(self, uids: list[str]) -> None:
        self.uids = uids
        super().__init__(
            _("No token with these ids: %(uids)s.") % {"uids": ", ".join(uids)}, code="unknown"
        )


def tokens_by_uid(uids: Iterable[str]) -> list[IdToken]:
    """The tokens named by ``uids`` (all of them, or ``UnknownTokens``)."""
    wanted = list(dict.fromkeys(u.strip() for u in uids if u.strip()))
    found = {t.uid: t for t in IdToken.objects.filter(uid__in=wanted)}
    missing = [uid for uid in wanted if uid not in found]
    if missing:
        raise UnknownTokens(missing)
    return [found[uid] for uid in wanted]


@transaction.atomic
def group_change_members(
    *,
    group: AccessGroup,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    add_keys: Iterable[str] = (),
    remove_keys: Iterable[str] = (),
) -> AccessGroup:
    """Add and remove member tokens by uid; nothing changes when one uid is unknown.
    ``add_keys`` / ``remove_keys``: members other than tokens ("fleet.fleet:3")."""
    adding, removing = tokens_by_uid(add), tokens_by_uid(remove)
    group_add_tokens(group=group, tokens=adding)
    group_remove_tokens(group=group, tokens=removing)
    for key in add_keys:
        group_add_member(group=group, key=key)
    for key in remove_keys:
        group_remove_member(group=group, key=key)
    return group


@transaction.atomic
def group_add_tokens(*, group: AccessGroup, tokens: Iterable[IdToken]) -> None:
    group.tokens.add(*tokens)
    _lists_follow(site_ids=_sites_naming(group))


@transaction.atomic
def group_remove_tokens(*, group: AccessGroup, tokens: Iterable[IdToken]) -> None:
    group.tokens.remove(*tokens)
    _lists_follow(site_ids=_sites_naming(group))


@transaction.atomic
def group_add_member(*, group: AccessGroup, key: str, label: str = "") -> AccessGroupMember:
    """A member other than a token, by the key its app answers for a token ("fleet.fleet:3",
    ``policies.TOKEN_MEMBERSHIPS``): every token standing for it is then in the group."""
    kind, _sep, ref = key.partition(":")
    if not kind or not ref:
        raise ValidationError({"key": _("A member is named “<kind>:<id>”.")})
    member, _created = AccessGroupMember.objects.update_or_create(
        group=group, key=key, defaults={"label": label}
    )
    _lists_follow(site_ids=_sites_naming(group))
    return member


@transaction.atomic
def group_remove_member(*, group: AccessGroup, key: str) -> None:
    AccessGroupMember.objects.filter(group=group, key=key).delete()
    _lists_follow(site_ids=_sites_naming(group))


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
    _set_groups_and_windows(rule=rule, groups=groups, windows=windows)
    if not confirm_lockout:
        _refuse_lockout(rule=rule)
    _lists_follow(site_ids=[rule.scope_site_id])
    return rule


def _set_groups_and_windows(
    *, rule: AccessRule, groups: Iterable[AccessGroup], windows: Iterable[WindowSpec]
) -> None:
    groups = list(groups)
    if rule.kind == RuleKind.MEMBERS and not groups:
        raise ValidationError({"groups": _("A members rule names at least one group.")})
    rule.groups.set(groups)
    rule.windows.all().delete()
    for weekday, start, end in windows:
        window = RuleWindow(rule=rule, weekday=weekday, start=start, end=end)
        window.full_clean()
        window.save()


@transaction.atomic
def rule_update(
    *,
    rule: AccessRule,
    name: str,
    kind: str,
    groups: Iterable[AccessGroup] = (),
    windows: Iterable[WindowSpec] = (),
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    holidays: str = HolidayMode.AS_USUAL,
    confirm_lockout: bool = False,
) -> AccessRule:
    """Change what a rule admits and when (its place stays: delete and create to move it);
    the windows given replace the rule's windows.  Lock-out as in ``rule_create``."""
    rule.name, rule.kind = name, kind
    rule.date_from, rule.date_to, rule.holidays = date_from, date_to, holidays
    rule.full_clean()
    rule.save()
    _set_groups_and_windows(rule=rule, groups=groups, windows=windows)
    if not confirm_lockout:
        _refuse_lockout(rule=rule)
    _lists_follow(site_ids=[rule.scope_site_id])
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
    ) | frozenset(AccessGroupMember.objects.values_list("group_id", flat=True).distinct())
    today = timezone.localdate(timezone=ZoneInfo(rule.scope_site.timezone))
    if engine.admits_nobody(rules, populated_groups=populated, today=today):
        raise ValidationError(
            _("With this rule nobody may charge here any more. Confirm to lock everyone out."),
            code="lockout",
        )


@transaction.atomic
def rule_delete(*, rule: AccessRule) -> None:
    _lists_follow(site_ids=[rule.scope_site_id])
    rule.delete()


@transaction.atomic
def holiday_create(*, date: dt.date, name: str, site: Site | None = None) -> Holiday:
    holiday = Holiday(date=date, name=name, site=site)
    holiday.full_clean()
    holiday.save()
    _lists_follow(site_ids=None if site is None else [site.pk])
    return holiday


@transaction.atomic
def holiday_update(*, holiday: Holiday, date: dt.date, name: str) -> Holiday:
    holiday.date, holiday.name = date, name
    holiday.full_clean()
    holiday.save()
    _lists_follow(site_ids=None if holiday.site_id is None else [holiday.site_id])
    return holiday


@transaction.atomic
def holiday_delete(*, holiday: Holiday) -> None:
    _lists_follow(site_ids=None if holiday.site_id is None else [holiday.site_id])
    holiday.delete()
