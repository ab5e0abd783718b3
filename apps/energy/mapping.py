"""From an OpenADR event to the limits of a node over time (pure: no I/O).

Rules (OpenADR 2.0b event model, as chargegrid applies it):

- The event runs from ``dtstart + offset`` to ``dtstart + duration + offset``, where
  ``offset`` is the random delay the VEN drew once within the VTN's ``startafter`` tolerance
  (randomisation spreads many VENs' reactions). An open-ended event (duration 0) runs until a
  *lease* end that each successful poll pushes forward: a VTN that falls silent cannot keep
  a site low for ever.
- The target: a SIMPLE signal at level 1, 2 or 3 is that level's percentage of the node's
  own limits (amps and/or kW, whichever the node has), rounded down to 0.1 A / 0.001 kW;
  level 0 asks for nothing. A LOAD_DISPATCH setpoint or LOAD_CONTROL
  x-loadControlCapacity/x-loadControlSetpoint in kW is a kW limit (the node's kW limit
  if lower still applies: the lowest limit wins in power).
- Several intervals: each interval's payload is the target for that interval's period only
  (a separate step each, so each applies at its own start); ramp-up leads into the first
  interval that asks for something, recovery follows the last one.
- Ramp-up (``x-eiRampUp``): the limit goes down in ``RAMP_STEPS - 1`` equal steps during the
  ramp-up period *before* the start (1/4, 2/4, 3/4 of the way), reaching the target at the
  start. Recovery (``x-eiRecovery``): it comes back up in as many steps after the end. A step needs the
  limit from before; without one there is no ramp, only the target.
- Every step is time-bounded: nothing here is open-ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

RAMP_STEPS = 4  # the target is reached on the 4th step
LEVEL_SIGNALS = {"SIMPLE", "simple"}
KW_SIGNALS = {
    ("LOAD_DISPATCH", "setpoint"),
    ("LOAD_CONTROL", "x-loadControlCapacity"),
    ("LOAD_CONTROL", "x-loadControlSetpoint"),
}
AMP = Decimal("0.1")
KW = Decimal("0.001")


@dataclass(frozen=True)
class Target:
    """The limit an event asks for on its node (either or both may be set)."""

    limit_a: Decimal | None
    limit_kw: Decimal | None

    @property
    def empty(self) -> bool:
        return self.limit_a is None and self.limit_kw is None


@dataclass(frozen=True)
class Step:
    starts_at: datetime
    ends_at: datetime
    limit_a: Decimal | None
    limit_kw: Decimal | None


def signal_kind(signal_name: str, signal_type: str) -> str:
    if signal_name in LEVEL_SIGNALS and signal_type == "level":
        return "level"
    if (signal_name, signal_type) in KW_SIGNALS:
        return "kw_target"
    return "other"


def target_for(
    *,
    kind: str,
    value: Decimal | None,
    percents: tuple[Decimal, Decimal, Decimal],
    node_limit_a: Decimal | None,
    node_limit_kw: Decimal | None,
) -> Target:
    if value is None or kind == "other":
        return Target(None, None)
    if kind == "kw_target":
        return Target(None, max(value, Decimal(0)).quantize(KW, rounding=ROUND_DOWN))
    level = int(value)
    if level <= 0:
        return Target(None, None)
    percent = percents[min(level, 3) - 1] / 100
    return Target(
        _part(node_limit_a, percent, AMP),
        _part(node_limit_kw, percent, KW),
    )


def _part(limit: Decimal | None, percent: Decimal, unit: Decimal) -> Decimal | None:
    return None if limit is None else (limit * percent).quantize(unit, rounding=ROUND_DOWN)


@dataclass(frozen=True)
class Part:
    """One interval of an event: its own period and target (multi-interval events)."""

    starts_at: datetime
    ends_at: datetime
    target: Target


def steps_for(
    *,
    target: Target,
    before: Target,
    starts_at: datetime,
    ends_at: datetime,
    ramp_up: timedelta,
    recovery: timedelta,
) -> list[Step]:
    """The limits over time of a one-interval event (see ``steps_for_parts``)."""
    return steps_for_parts(
        parts=[Part(starts_at, ends_at, target)], before=before, ramp_up=ramp_up, recovery=recovery
    )


def steps_for_parts(
    *, parts: list[Part], before: Target, ramp_up: timedelta, recovery: timedelta
) -> list[Step]:
    """The limits over time: each interval's own target for its own period (applied at its
    start), ramp-down steps before the first interval that asks for something, recovery steps
    after the last one (periods already randomised). An interval that asks for nothing
    (level 0) leaves the node alone for its period."""
    parts = sorted(
        (part for part in parts if not part.target.empty and part.ends_at > part.starts_at),
        key=lambda part: part.starts_at,
    )
    if not parts:
        return []
    first, last = parts[0], parts[-1]
    steps = []
    if ramp_up > timedelta(0):
        width = ramp_up / (RAMP_STEPS - 1)
        for i in range(1, RAMP_STEPS):
            begin = first.starts_at - ramp_up + width * (i - 1)
            share = Decimal(i) / RAMP_STEPS
            steps.append(Step(begin, begin + width, *_between(before, first.target, share)))
    for part in parts:
        steps.append(Step(part.starts_at, part.ends_at, part.target.limit_a, part.target.limit_kw))
    if recovery > timedelta(0):
        width = recovery / (RAMP_STEPS - 1)
        for i in range(1, RAMP_STEPS):
            begin = last.ends_at + width * (i - 1)
            share = Decimal(RAMP_STEPS - i) / RAMP_STEPS  # of the way down, still
            steps.append(Step(begin, begin + width, *_between(before, last.target, share)))
    # A step without any limit (no "before" to ramp from) is dropped.
    return [step for step in steps if step.limit_a is not None or step.limit_kw is not None]


def _between(before: Target, target: Target, share: Decimal) -> tuple:
    """``share`` of the way from ``before`` down to ``target``, per unit; None where the
    event sets no such limit or nothing was in force before."""

    def one(high: Decimal | None, low: Decimal | None, unit: Decimal) -> Decimal | None:
        if high is None or low is None:
            return None
        if high <= low:
            return low
        return (high - (high - low) * share).quantize(unit, rounding=ROUND_DOWN)

    return one(before.limit_a, target.limit_a, AMP), one(before.limit_kw, target.limit_kw, KW)
