"""Smart-charging profiles as a station applies them (OCPP 1.6 §3.13, 2.0.1 K).

One model for both versions: 1.6's ChargePointMaxProfile is stored as the 2.0.1 name
ChargingStationMaxProfile and connector ids as EVSE ids (0 = the whole station).

Rules applied:
- within one purpose, the profile with the highest stackLevel that has a period at that moment
  wins (outside validFrom/validTo, before its start or after its duration a profile does not
  count, so the next lower stackLevel applies);
- a TxProfile for the running transaction beats TxDefaultProfiles; an EVSE-specific
  TxDefaultProfile beats the station-wide one (EVSE 0);
- the station maximum caps the whole station; the EVSE's limit is the minimum of its hardware,
  the station maximum and its transaction limit;
- ``W`` limits become amps per phase as P / (V × phases), phases being the period's
  numberPhases or the EVSE's phases.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .timeutil import parse_time


class Purpose(StrEnum):
    STATION_MAX = "ChargingStationMaxProfile"
    TX_DEFAULT = "TxDefaultProfile"
    TX = "TxProfile"
    EXTERNAL = "ChargingStationExternalConstraints"


V16_PURPOSES = {
    "ChargePointMaxProfile": Purpose.STATION_MAX,
    "TxDefaultProfile": Purpose.TX_DEFAULT,
    "TxProfile": Purpose.TX,
}
V16_PURPOSE_NAMES = {purpose: name for name, purpose in V16_PURPOSES.items()}

CYCLES = {"Daily": timedelta(days=1), "Weekly": timedelta(days=7)}


@dataclass(frozen=True)
class Period:
    start: int  # seconds from the start of the schedule
    limit: float
    phases: int | None = None


@dataclass(frozen=True)
class ChargingProfile:
    id: int
    evse_id: int
    stack_level: int
    purpose: Purpose
    kind: str  # Absolute | Recurring | Relative
    unit: str  # A | W
    periods: tuple[Period, ...]
    installed_at: datetime
    start_schedule: datetime | None = None
    duration: int | None = None
    recurrency: str | None = None  # Daily | Weekly
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: str | None = None
    min_charging_rate: float | None = None
    # The profile as the CSMS sent it (snake_case), for GetChargingProfiles reports.
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    def schedule_start(self, at: datetime, tx_start: datetime | None) -> datetime | None:
        if self.kind == "Relative":
            return tx_start
        base = self.start_schedule or self.installed_at
        if self.kind == "Recurring":
            cycle = CYCLES[self.recurrency or "Daily"]
            return base + cycle * math.floor((at - base) / cycle)
        return base

    def period_at(self, at: datetime, tx_start: datetime | None) -> Period | None:
        """The period in force at ``at``, or None when this profile does not apply then."""
        if self.valid_from and at < self.valid_from:
            return None
        if self.valid_to and at >= self.valid_to:
            return None
        start = self.schedule_start(at, tx_start)
        if start is None or at < start:
            return None
        offset = (at - start).total_seconds()
        if self.duration is not None and offset >= self.duration:
            return None
        current = None
        for period in self.periods:
            if period.start > offset:
                break
            current = period
        return current

    def boundaries(
        self, after: datetime, until: datetime, tx_start: datetime | None
    ) -> Iterable[datetime]:
        """Moments in (after, until] at which this profile's limit may change."""
        moments = [m for m in (self.valid_from, self.valid_to) if m is not None]
        starts: list[datetime] = []
        if self.kind == "Recurring":
            cycle = CYCLES[self.recurrency or "Daily"]
            start = self.schedule_start(after, None)
            while start is not None and start <= until:
                starts.append(start)
                start += cycle
        else:
            start = self.schedule_start(after, tx_start)
            if start is not None:
                starts.append(start)
        for start in starts:
            moments.extend(start + timedelta(seconds=p.start) for p in self.periods)
            if self.duration is not None:
                moments.append(start + timedelta(seconds=self.duration))
        return (m for m in moments if after < m <= until)


def amps(limit: float, unit: str, voltage: float, phases: int) -> float:
    """A charging-rate limit as amps per phase."""
    return limit if unit == "A" else limit / (voltage * phases)


def floor_tenth(value: float) -> float:
    """OCPP 1.6 limits are multiples of 0.1: round down so a limit is never exceeded."""
    return math.floor(value * 10 + 1e-6) / 10


class ProfileStore:
    """The profiles installed on one station."""

    def __init__(self) -> None:
        self._profiles: list[ChargingProfile] = []

    def __iter__(self):
        return iter(list(self._profiles))

    def __len__(self) -> int:
        return len(self._profiles)

    def install(self, profile: ChargingProfile) -> None:
        """Same id, or same EVSE + purpose + stackLevel, replaces the old profile."""
        self._profiles = [
            p
            for p in self._profiles
            if p.id != profile.id
            and (p.evse_id, p.purpose, p.stack_level)
            != (profile.evse_id, profile.purpose, profile.stack_level)
        ]
        self._profiles.append(profile)

    def clear(
        self,
        *,
        profile_id: int | None = None,
        evse_id: int | None = None,
        purpose: Purpose | None = None,
        stack_level: int | None = None,
    ) -> int:
        """Remove matching profiles; an id, when given, is the only criterion.  Returns the
        number removed."""

        def matches(p: ChargingProfile) -> bool:
            if profile_id is not None:
                return p.id == profile_id
            return (
                (evse_id is None or p.evse_id == evse_id)
                and (purpose is None or p.purpose == purpose)
                and (stack_level is None or p.stack_level == stack_level)
            )

        kept = [p for p in self._profiles if not matches(p)]
        removed = len(self._profiles) - len(kept)
        self._profiles = kept
        return removed

    def remove_transaction_profiles(self, evse_id: int) -> None:
        """A TxProfile ends with its transaction."""
        self.clear(evse_id=evse_id, purpose=Purpose.TX)

    def station_limit_a(self, at: datetime, voltage: float, phases: int) -> float | None:
        candidates = [p for p in self._profiles if p.purpose == Purpose.STATION_MAX]
        return _winning_limit(candidates, at, None, voltage, phases)

    def transaction_limit_a(
        self,
        evse_id: int,
        at: datetime,
        *,
        transaction_id: str | None,
        tx_start: datetime | None,
        voltage: float,
        phases: int,
    ) -> float | None:
        """TxProfile of the running transaction, else the EVSE's TxDefaultProfile, else the
        station-wide TxDefaultProfile."""
        if transaction_id is not None:
            tx_profiles = [
                p
                for p in self._profiles
                if p.purpose == Purpose.TX
                and p.evse_id == evse_id
                and p.transaction_id in (None, transaction_id)
            ]
            limit = _winning_limit(tx_profiles, at, tx_start, voltage, phases)
            if limit is not None:
                return limit
        for scope in (evse_id, 0):
            defaults = [
                p for p in self._profiles if p.purpose == Purpose.TX_DEFAULT and p.evse_id == scope
            ]
            limit = _winning_limit(defaults, at, tx_start, voltage, phases)
            if limit is not None:
                return limit
        return None

    def boundaries(
        self, after: datetime, until: datetime, tx_starts: dict[int, datetime | None]
    ) -> list[datetime]:
        """Every moment in (after, until] at which some limit may change."""
        moments: set[datetime] = set()
        for profile in self._profiles:
            if profile.kind == "Relative" and profile.evse_id == 0:
                starts = set(tx_starts.values()) or {None}
            else:
                starts = {tx_starts.get(profile.evse_id)}
            for tx_start in starts:
                moments.update(profile.boundaries(after, until, tx_start))
        return sorted(moments)


def _winning_limit(
    profiles: list[ChargingProfile],
    at: datetime,
    tx_start: datetime | None,
    voltage: float,
    phases: int,
) -> float | None:
    for profile in sorted(profiles, key=lambda p: p.stack_level, reverse=True):
        period = profile.period_at(at, tx_start)
        if period is not None:
            return amps(period.limit, profile.unit, voltage, period.phases or phases)
    return None


def validation_error(
    profile: ChargingProfile,
    *,
    evse_count: int,
    max_stack_level: int,
    allowed_units: set[str],
    max_periods: int,
) -> str | None:
    """Why a station refuses this profile, or None.  Transaction checks are the station's."""
    if profile.purpose == Purpose.EXTERNAL:
        return "ChargingStationExternalConstraints is set by the station itself"
    if not 0 <= profile.evse_id <= evse_count:
        return f"no EVSE {profile.evse_id}"
    if profile.purpose == Purpose.STATION_MAX and profile.evse_id != 0:
        return "a station maximum profile belongs on EVSE 0"
    if profile.purpose == Purpose.TX and profile.evse_id == 0:
        return "a TxProfile belongs on the EVSE of its transaction"
    if not 0 <= profile.stack_level <= max_stack_level:
        return f"stackLevel above {max_stack_level}"
    if profile.unit not in allowed_units:
        return f"charging rate unit {profile.unit} not supported"
    if not profile.periods or len(profile.periods) > max_periods:
        return f"a schedule needs 1 to {max_periods} periods"
    starts = [p.start for p in profile.periods]
    if starts[0] != 0 or starts != sorted(set(starts)):
        return "periods must start at 0 and increase"
    if any(p.limit < 0 for p in profile.periods):
        return "negative limit"
    if profile.kind == "Recurring" and profile.recurrency not in CYCLES:
        return "a recurring profile needs recurrencyKind Daily or Weekly"
    return None


def profile_from_v16(evse_id: int, data: dict[str, Any], now: datetime) -> ChargingProfile:
    """``csChargingProfiles`` of a 1.6 SetChargingProfile (snake_case keys)."""
    tx_id = data.get("transaction_id")
    return _profile(
        data,
        data["charging_schedule"],
        profile_id=data["charging_profile_id"],
        evse_id=evse_id,
        purpose=V16_PURPOSES[data["charging_profile_purpose"]],
        transaction_id=None if tx_id is None else str(tx_id),
        now=now,
    )


def profile_from_v201(evse_id: int, data: dict[str, Any], now: datetime) -> ChargingProfile:
    """``chargingProfile`` of a 2.0.1 SetChargingProfile (snake_case keys).  Only the first
    schedule counts: more than one is an ISO 15118 offer of alternatives to the vehicle."""
    return _profile(
        data,
        data["charging_schedule"][0],
        profile_id=data["id"],
        evse_id=evse_id,
        purpose=Purpose(data["charging_profile_purpose"]),
        transaction_id=data.get("transaction_id"),
        now=now,
    )


def _profile(
    data: dict[str, Any],
    schedule: dict[str, Any],
    *,
    profile_id: int,
    evse_id: int,
    purpose: Purpose,
    transaction_id: str | None,
    now: datetime,
) -> ChargingProfile:
    """The fields both versions name alike."""
    return ChargingProfile(
        id=profile_id,
        evse_id=evse_id,
        stack_level=data["stack_level"],
        purpose=purpose,
        kind=data["charging_profile_kind"],
        recurrency=data.get("recurrency_kind"),
        valid_from=parse_time(data.get("valid_from")),
        valid_to=parse_time(data.get("valid_to")),
        transaction_id=transaction_id,
        unit=schedule["charging_rate_unit"],
        periods=_periods(schedule["charging_schedule_period"]),
        start_schedule=parse_time(schedule.get("start_schedule")),
        duration=schedule.get("duration"),
        min_charging_rate=schedule.get("min_charging_rate"),
        installed_at=now,
        raw=data,
    )


def _periods(items: list[dict[str, Any]]) -> tuple[Period, ...]:
    return tuple(
        Period(start=int(i["start_period"]), limit=float(i["limit"]), phases=i.get("number_phases"))
        for i in items
    )


def merge_periods(points: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """Drop points that repeat the previous limit."""
    merged: list[tuple[int, float]] = []
    for offset, limit in points:
        if not merged or merged[-1][1] != limit:
            merged.append((offset, limit))
    return merged
