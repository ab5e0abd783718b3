"""Who may charge where and when: the access decision, pure (no I/O), from plain records.

Rules (docs/access.md, "Precedence"):

1. **Levels.** A rule is attached to a site, a station or a port.  The most specific level
   that has *any* rule for the place decides alone: port rules, else station rules, else site
   rules.  A place with no rule at any level is open: the engine abstains (``decided`` is
   false) and the token table (valid, not blocked, not expired) decides as before.  When the
   port is not known (OCPP 1.6 Authorize names no connector) port rules are not consulted.
2. **Kinds.** ``public`` admits every token; ``members`` admits tokens in at least one of the
   rule's groups; ``private`` admits nobody (it closes the level, so that only the other rules
   of that level let people in: "private station, staff only" is one private rule and one
   members rule, or simply one members rule).
3. **Union within the level.** The token is admitted if at least one rule of the deciding level
   is *in force now* and admits it.  There are no deny rules: rules only open.
4. **Schedules**, in the site's timezone, on wall-clock time.  A rule with no window is in
   force all day every day.  A window is (weekday, start, end) and belongs to the day it
   starts on; ``end <= start`` means it runs past midnight into the next day (Friday
   18:00–07:00 covers Saturday 06:59), and ``start == end`` means 24 hours.  The start day
   alone is checked against the date range (inclusive local dates) and the holidays (a rule
   may apply on holidays as usual, skip them or apply only on them).  On DST changes the wall
   clock is what counts: a 22:00–06:00 window is 9 real hours long on the night the clocks go
   back and 7 on the night they go forward.
5. **Why refused.** ``NotAtThisTime`` when a rule of the deciding level admits the token at
   some other time (its schedule is not in force now); otherwise ``NotAtThisLocation``.
6. **Lock-out.** The rules of one place admit nobody, ever, when each of them is ``private``,
   names only empty groups, or ended before today: such a change needs confirmation.
7. **Overlaps** between the weekly windows of rules of one place are reported (they are not
   errors: rules only open, so where two overlap either admits); date ranges and holidays are
   not considered there.
8. Every decision carries the steps that led to it, readable by a person ("why was this card
   refused here now?").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.utils.translation import gettext, gettext_noop

from .choices import HolidayMode, Level, Refusal, RuleKind, Weekday

MIDNIGHT = dt.time(0, 0)


@dataclass(frozen=True)
class Window:
    weekday: int  # Monday = 0
    start: dt.time
    end: dt.time

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def covers(self, day: dt.date, at: dt.time) -> bool:
        """Does the window that starts on ``day`` cover wall-clock ``at`` on ``day``?"""
        if day.weekday() != self.weekday:
            return False
        return self.start <= at and (self.crosses_midnight or at < self.end)

    def covers_morning_after(self, day: dt.date, at: dt.time) -> bool:
        """Does the window that starts on ``day`` cover ``at`` on the day after ``day``?"""
        return day.weekday() == self.weekday and self.crosses_midnight and at < self.end


@dataclass(frozen=True)
class Schedule:
    windows: tuple[Window, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    holidays: str = HolidayMode.AS_USUAL

    def day_allowed(self, day: dt.date, holidays: frozenset[dt.date]) -> bool:
        if self.date_from and day < self.date_from:
            return False
        if self.date_to and day > self.date_to:
            return False
        if self.holidays == HolidayMode.SKIP and day in holidays:
            return False
        return not (self.holidays == HolidayMode.ONLY and day not in holidays)

    def in_force(self, local: dt.datetime, holidays: frozenset[dt.date]) -> bool:
        """Is the schedule in force at ``local`` (a wall-clock time in the site's zone)?"""
        today, at = local.date(), local.time().replace(tzinfo=None)
        yesterday = today - dt.timedelta(days=1)
        if not self.windows:
            return self.day_allowed(today, holidays)
        if self.day_allowed(today, holidays) and any(w.covers(today, at) for w in self.windows):
            return True
        return self.day_allowed(yesterday, holidays) and any(
            w.covers_morning_after(yesterday, at) for w in self.windows
        )


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    level: int  # Level
    kind: str  # RuleKind
    group_ids: frozenset[int] = frozenset()
    schedule: Schedule = field(default_factory=Schedule)

    def admits(self, token_groups: frozenset[int]) -> bool:
        if self.kind == RuleKind.PUBLIC:
            return True
        if self.kind == RuleKind.MEMBERS:
            return not self.group_ids.isdisjoint(token_groups)
        return False


Step = tuple[str, dict]  # an English message (marked for translation) and its values


@dataclass(frozen=True)
class Decision:
    decided: bool  # false: no rule here, the engine abstains
    allowed: bool
    reason: str = ""  # a Refusal when refused
    level: int | None = None
    rule: Rule | None = None  # the rule that admitted the token
    raw_steps: tuple[Step, ...] = ()

    @property
    def steps(self) -> tuple[str, ...]:
        """The steps in the reader's language.  Translated here, not while deciding: the
        OCPP path never reads them (bench/access_decision.py)."""
        return tuple(gettext(message) % _words(values) for message, values in self.raw_steps)


def _words(values: dict) -> dict:
    """A step's values, with the words among them translated too."""
    return {
        key: gettext(value.text) if isinstance(value, _Word) else value
        for key, value in values.items()
    }


@dataclass(frozen=True)
class _Word:
    text: str


ADMITS = _Word(gettext_noop("admits this token"))
DOES_NOT_ADMIT = _Word(gettext_noop("does not admit this token"))
IN_FORCE = _Word(gettext_noop("in force now"))
NOT_IN_FORCE = _Word(gettext_noop("not in force now"))


def deciding_level(rules: Iterable[Rule], *, port_known: bool) -> tuple[int | None, list[Rule]]:
    by_level: dict[int, list[Rule]] = {}
    for rule in rules:
        by_level.setdefault(rule.level, []).append(rule)
    for level in (Level.PORT, Level.STATION, Level.SITE):
        if level == Level.PORT and not port_known:
            continue
        if by_level.get(level):
            return level, by_level[level]
    return None, []


def decide(
    *,
    rules: Sequence[Rule],
    token_groups: frozenset[int],
    moment: dt.datetime,
    tz: ZoneInfo,
    holidays: frozenset[dt.date] = frozenset(),
    port_known: bool = True,
) -> Decision:
    """May a token in ``token_groups`` charge at ``moment`` (aware) where ``rules`` apply?"""
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    local = moment.astimezone(tz)
    steps: list[Step] = [
        (
            gettext_noop("Local time at the site: %(day)s %(date)s %(time)s (%(zone)s)."),
            {
                "day": Weekday(local.weekday()).label,
                "date": f"{local:%Y-%m-%d}",
                "time": f"{local:%H:%M}",
                "zone": tz.key,
            },
        )
    ]
    level, candidates = deciding_level(rules, port_known=port_known)
    if level is None:
        steps.append(
            (
                gettext_noop(
                    "No access rule applies here: the place is open to every valid token."
                ),
                {},
            )
        )
        return Decision(decided=False, allowed=True, raw_steps=tuple(steps))
    steps.append(
        (
            gettext_noop("%(level)s rules decide (%(count)d); less specific ones are ignored."),
            {"level": Level(level).label, "count": len(candidates)},
        )
    )
    admits_some_time = False
    for rule in sorted(candidates, key=lambda r: r.id):
        admits = rule.admits(token_groups)
        in_force = rule.schedule.in_force(local, holidays)
        admits_some_time = admits_some_time or admits
        steps.append(
            (
                gettext_noop("Rule “%(rule)s” (%(kind)s): %(admits)s, %(in_force)s."),
                {
                    "rule": rule.name,
                    "kind": RuleKind(rule.kind).label,
                    "admits": ADMITS if admits else DOES_NOT_ADMIT,
                    "in_force": IN_FORCE if in_force else NOT_IN_FORCE,
                },
            )
        )
        if admits and in_force:
            steps.append((gettext_noop("Allowed by “%(rule)s”."), {"rule": rule.name}))
            return Decision(True, True, level=level, rule=rule, raw_steps=tuple(steps))
    reason = Refusal.NOT_AT_THIS_TIME if admits_some_time else Refusal.NOT_AT_THIS_LOCATION
    steps.append((gettext_noop("Refused: %(reason)s."), {"reason": Refusal(reason).label}))
    return Decision(True, False, reason=reason, level=level, raw_steps=tuple(steps))


def admits_nobody(
    rules: Sequence[Rule], *, populated_groups: frozenset[int], today: dt.date
) -> bool:
    """Do ``rules`` (those of one place) keep everyone out from ``today`` on?  No rules at all
    is an open place, not a locked one."""

    def may_admit_someone(rule: Rule) -> bool:
        if rule.schedule.date_to is not None and rule.schedule.date_to < today:
            return False
        if rule.kind == RuleKind.PUBLIC:
            return True
        return rule.kind == RuleKind.MEMBERS and not rule.group_ids.isdisjoint(populated_groups)

    return bool(rules) and not any(may_admit_someone(rule) for rule in rules)


WEEK_MINUTES = 7 * 24 * 60


@dataclass(frozen=True)
class Overlap:
    first: Rule
    second: Rule
    weekday: int  # the day the overlap starts on
    start: dt.time
    minutes: int

    def __str__(self) -> str:
        end = (
            dt.datetime.combine(dt.date(2026, 1, 5), self.start)
            + dt.timedelta(minutes=self.minutes)
        ).time()
        return gettext("“%(first)s” and “%(second)s” both apply %(day)s %(start)s–%(end)s") % {
            "first": self.first.name,
            "second": self.second.name,
            "day": Weekday(self.weekday).label,
            "start": f"{self.start:%H:%M}",
            "end": f"{end:%H:%M}",
        }


def _week_intervals(schedule: Schedule) -> list[tuple[int, int]]:
    """The schedule's windows as [start, end) minutes from Monday 00:00, split at the week's end."""
    if not schedule.windows:
        return [(0, WEEK_MINUTES)]
    out = []
    for w in schedule.windows:
        start = w.weekday * 1440 + w.start.hour * 60 + w.start.minute
        length = (w.end.hour * 60 + w.end.minute) - (w.start.hour * 60 + w.start.minute)
        if length <= 0:
            length += 1440
        end = start + length
        out.append((start, min(end, WEEK_MINUTES)))
        if end > WEEK_MINUTES:
            out.append((0, end - WEEK_MINUTES))
    return out


def overlaps(rules: Sequence[Rule]) -> list[Overlap]:
    """Where the weekly windows of two rules of one place overlap, in week order."""
    found = []
    ordered = sorted(rules, key=lambda r: r.id)
    for i, first in enumerate(ordered):
        for second in ordered[i + 1 :]:
            for a_start, a_end in _week_intervals(first.schedule):
                for b_start, b_end in _week_intervals(second.schedule):
                    start, end = max(a_start, b_start), min(a_end, b_end)
                    if start < end:
                        day, minute = divmod(start, 1440)
                        found.append(
                            Overlap(
                                first, second, day, dt.time(minute // 60, minute % 60), end - start
                            )
                        )
    return sorted(found, key=lambda o: (o.weekday, o.start, o.first.id, o.second.id))
