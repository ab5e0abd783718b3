"""The cost engine: a pure function from a tariff and a session's timeline to itemised lines.

No database, no clock, no settings: ``compute_cost(tariff, timeline, taxes)`` depends only on its
arguments, so the same session always gives the same receipt (``inputs_digest`` fingerprints the
arguments so a stored receipt can be checked against a recomputation).

How a session is priced (docs/billing.md has worked examples):

* The session is cut into *segments* at every instant where a price could change: meter
  interval edges, the end of charging, the end of the idle grace period, tier edges (minutes
  after plug-in) and the edges of every time-of-use window in the **site's time zone** (found on
  the wall clock of each stretch of constant UTC offset, so DST days have 23 or 25 hours and a
  window edge that falls in the skipped hour simply does not happen).
* Energy of a meter interval is spread over its segments in proportion to time (whole Wh,
  largest remainder), then each segment takes the first matching energy rate.
* Each segment takes the first matching time rate (per hour of connected or charging time);
  the total billed time is rounded **up** to the billing step once per session, the extra going
  to the rate in force at the end (the OCPI 2.2.1 ``step_size`` rule).
* Idle (parking) time starts when charging ends; the first ``grace_minutes`` are free; the rest
  is billed per step and may be capped.
* Each line is computed exactly (rational arithmetic) and rounded once, ROUND_HALF_UP to the
  currency's minor unit.  The subtotal is the sum of rounded lines; minimum and maximum session
  prices then add one adjustment line; taxes are computed on that subtotal, one rounded line per
  tax rate.  A session that delivered no energy is never topped up to the minimum price.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from math import ceil
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .money import MoneyError, check_amount, money_sum, parse_decimal, round_money, zero

ENGINE_VERSION = "1"
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PRICE_DECIMALS = 6  # unit prices (per kWh, per hour) may be finer than the currency
TIME_BASIS_CONNECTED = "connected"  # plug-in to plug-out
TIME_BASIS_CHARGING = "charging"  # plug-in to the end of charging
_PROBE = timedelta(hours=6)  # no time zone changes its UTC offset twice within 6 hours
_SECOND = timedelta(seconds=1)


class TariffError(ValueError):
    """A tariff definition that cannot be priced; ``problems`` lists every reason found."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class TimelineError(ValueError):
    """Session data that cannot be priced (times out of order, negative energy...)."""


# --- Tariff definition -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """A weekly time-of-use window on the site's wall clock, ``[start, end)``.

    ``end=None`` means midnight at the end of the day ("24:00").  An ``end`` before ``start``
    wraps past midnight: Monday 22:00-06:00 covers Monday 22:00 to Tuesday 06:00 (``days`` name
    the day the window opens).
    """

    days: frozenset[int]
    start: time
    end: time | None = None

    def contains(self, local: datetime) -> bool:
        clock, day = local.time(), local.weekday()
        if self.end is None or self.end > self.start:
            return (
                day in self.days and clock >= self.start and (self.end is None or clock < self.end)
            )
        if day in self.days and clock >= self.start:
            return True
        return (day - 1) % 7 in self.days and clock < self.end

    @property
    def edges(self) -> tuple[time, ...]:
        return (self.start, self.end or time(0))

    @property
    def wraps(self) -> bool:
        return self.end is not None and self.end < self.start

    def to_dict(self) -> dict[str, Any]:
        return {
            "days": [DAY_NAMES[d] for d in sorted(self.days)],
            "start": self.start.strftime("%H:%M"),
            "end": "24:00" if self.end is None else self.end.strftime("%H:%M"),
        }


@dataclass(frozen=True, slots=True)
class When:
    """When a rate applies: within any of ``windows`` (always if none) and between
    ``from_minutes`` (inclusive) and ``to_minutes`` (exclusive) after plug-in."""

    windows: tuple[Window, ...] = ()
    from_minutes: int = 0
    to_minutes: int | None = None

    def matches(self, local: datetime, elapsed_seconds: int) -> bool:
        if elapsed_seconds < self.from_minutes * 60:
            return False
        if self.to_minutes is not None and elapsed_seconds >= self.to_minutes * 60:
            return False
        return not self.windows or any(window.contains(local) for window in self.windows)

    @property
    def unrestricted(self) -> bool:
        return not self.windows and self.from_minutes == 0 and self.to_minutes is None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.windows:
            data["windows"] = [w.to_dict() for w in self.windows]
        if self.from_minutes:
            data["from_minutes"] = self.from_minutes
        if self.to_minutes is not None:
            data["to_minutes"] = self.to_minutes
        return data


@dataclass(frozen=True, slots=True)
class EnergyRate:
    price_per_kwh: Decimal
    when: When = When()
    label: str = ""


@dataclass(frozen=True, slots=True)
class TimeRate:
    price_per_hour: Decimal
    when: When = When()
    label: str = ""


@dataclass(frozen=True, slots=True)
class IdleFee:
    """Parking fee once charging has ended and the vehicle is still plugged in."""

    price_per_hour: Decimal
    grace_minutes: int = 0
    step_seconds: int = 60
    windows: tuple[Window, ...] = ()
    max_amount: Decimal | None = None
    label: str = ""


@dataclass(frozen=True, slots=True)
class ReservationFees:
    """Fees of a port held for a driver (the waitlist's OCPP reservation): ``fee`` on the
    session that starts on the held port, ``no_show_fee`` when the hold expires unused (it is
    charged on the driver's next receipt).  Outside the minimum and maximum session price."""

    fee: Decimal = Decimal(0)
    no_show_fee: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Tariff:
    """What a driver pays.  Every part is optional and they combine; no part at all is free."""

    currency: str
    session_fee: Decimal = Decimal(0)
    energy: tuple[EnergyRate, ...] = ()
    time: tuple[TimeRate, ...] = ()
    time_basis: str = TIME_BASIS_CONNECTED
    time_step_seconds: int = 60
    idle: IdleFee | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    reservation: ReservationFees | None = None

    @property
    def is_free(self) -> bool:
        """No price for charging (reservation fees are not a price for charging)."""
        prices = [self.session_fee, self.min_price or 0]
        prices += [r.price_per_kwh for r in self.energy] + [r.price_per_hour for r in self.time]
        if self.idle is not None:
            prices.append(self.idle.price_per_hour)
        return all(p == 0 for p in prices)

    def windows(self) -> Iterable[Window]:
        for rate in (*self.energy, *self.time):
            yield from rate.when.windows
        if self.idle is not None:
            yield from self.idle.windows

    # -- JSON form (stored in TariffVersion.definition) --

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Tariff:
        return _TariffParser(data).parse()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"currency": self.currency}
        if self.session_fee:
            data["session_fee"] = str(self.session_fee)
        if self.energy:
            data["energy"] = [
                {"price_per_kwh": str(r.price_per_kwh), **r.when.to_dict(), **_label(r.label)}
                for r in self.energy
            ]
        if self.time:
            data["time"] = [
                {"price_per_hour": str(r.price_per_hour), **r.when.to_dict(), **_label(r.label)}
                for r in self.time
            ]
            data["time_basis"] = self.time_basis
            data["time_step_seconds"] = self.time_step_seconds
        if self.idle is not None:
            idle: dict[str, Any] = {
                "price_per_hour": str(self.idle.price_per_hour),
                "grace_minutes": self.idle.grace_minutes,
                "step_seconds": self.idle.step_seconds,
            }
            if self.idle.windows:
                idle["windows"] = [w.to_dict() for w in self.idle.windows]
            if self.idle.max_amount is not None:
                idle["max_amount"] = str(self.idle.max_amount)
            data["idle"] = {**idle, **_label(self.idle.label)}
        if self.min_price is not None:
            data["min_price"] = str(self.min_price)
        if self.max_price is not None:
            data["max_price"] = str(self.max_price)
        if self.reservation is not None:
            data["reservation"] = {
                "fee": str(self.reservation.fee),
                "no_show_fee": str(self.reservation.no_show_fee),
            }
        return data


def _label(label: str) -> dict[str, str]:
    return {"label": label} if label else {}


class _TariffParser:
    """Reads the JSON form, collecting every problem instead of stopping at the first."""

    KNOWN = {
        "currency",
        "session_fee",
        "energy",
        "time",
        "time_basis",
        "time_step_seconds",
        "idle",
        "min_price",
        "max_price",
        "reservation",
    }

    def __init__(self, data: Mapping[str, Any]):
        self.data = data
        self.problems: list[str] = []

    def parse(self) -> Tariff:
        data = self.data
        if not isinstance(data, Mapping):
            raise TariffError(["a tariff definition is an object"])
        for key in sorted(set(data) - self.KNOWN):
            self.problems.append(f"unknown field {key!r}")
        currency = data.get("currency")
        if not isinstance(currency, str) or len(currency) != 3 or not currency.isupper():
            raise TariffError([*self.problems, "currency: an ISO 4217 code such as CAD"])
        self.currency = currency
        tariff = Tariff(
            currency=currency,
            session_fee=self.amount(data.get("session_fee", "0"), "session_fee"),
            energy=tuple(
                EnergyRate(
                    price_per_kwh=self.price(item.get("price_per_kwh"), f"energy[{i}].price"),
                    when=self.when(item, f"energy[{i}]"),
                    label=self.text(item.get("label", ""), f"energy[{i}].label"),
                )
                for i, item in enumerate(self.items(data.get("energy", []), "energy"))
            ),
            time=tuple(
                TimeRate(
                    price_per_hour=self.price(item.get("price_per_hour"), f"time[{i}].price"),
                    when=self.when(item, f"time[{i}]"),
                    label=self.text(item.get("label", ""), f"time[{i}].label"),
                )
                for i, item in enumerate(self.items(data.get("time", []), "time"))
            ),
            time_basis=self.choice(
                data.get("time_basis", TIME_BASIS_CONNECTED),
                (TIME_BASIS_CONNECTED, TIME_BASIS_CHARGING),
                "time_basis",
            ),
            time_step_seconds=self.integer(
                data.get("time_step_seconds", 60), "time_step_seconds", 1, 86400
            ),
            idle=self.idle(data.get("idle")),
            min_price=self.optional_amount(data.get("min_price"), "min_price"),
            max_price=self.optional_amount(data.get("max_price"), "max_price"),
            reservation=self.reservation(data.get("reservation")),
        )
        for name, rates in (("energy", tariff.energy), ("time", tariff.time)):
            for i, rate in enumerate(rates[:-1]):
                if rate.when.unrestricted:
                    self.problems.append(
                        f"{name}[{i}] applies at all times, so the {name} rates after it "
                        "can never apply: put the default rate last"
                    )
                    break
        if (
            tariff.min_price is not None
            and tariff.max_price is not None
            and tariff.min_price > tariff.max_price
        ):
            self.problems.append("min_price is above max_price")
        if self.problems:
            raise TariffError(self.problems)
        return tariff

    def items(self, value: Any, name: str) -> list[Mapping[str, Any]]:
        if not isinstance(value, list) or not all(isinstance(i, Mapping) for i in value):
            self.problems.append(f"{name}: a list of objects")
            return []
        return value

    def text(self, value: Any, name: str) -> str:
        if not isinstance(value, str) or len(value) > 80:
            self.problems.append(f"{name}: text of at most 80 characters")
            return ""
        return value

    def choice(self, value: Any, allowed: tuple[str, ...], name: str) -> str:
        if value not in allowed:
            self.problems.append(f"{name}: one of {', '.join(allowed)}")
            return allowed[0]
        return value

    def integer(self, value: Any, name: str, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.problems.append(f"{name}: a whole number from {low} to {high}")
            return low
        return value

    def price(self, value: Any, name: str) -> Decimal:
        try:
            price = parse_decimal(value, field=name, max_decimals=PRICE_DECIMALS)
        except MoneyError as error:
            self.problems.append(str(error))
            return Decimal(0)
        if price < 0:
            self.problems.append(f"{name}: cannot be negative")
        return price

    def amount(self, value: Any, name: str) -> Decimal:
        try:
            amount = parse_decimal(value, field=name)
            check_amount(amount, self.currency)
        except MoneyError as error:
            self.problems.append(f"{name}: {error}")
            return zero(self.currency)
        if amount < 0:
            self.problems.append(f"{name}: cannot be negative")
        return amount

    def optional_amount(self, value: Any, name: str) -> Decimal | None:
        return None if value is None else self.amount(value, name)

    def when(self, item: Mapping[str, Any], name: str) -> When:
        known = {"price_per_kwh", "price_per_hour", "windows", "from_minutes", "to_minutes"}
        for key in sorted(set(item) - known - {"label"}):
            self.problems.append(f"{name}: unknown field {key!r}")
        from_minutes = self.integer(item.get("from_minutes", 0), f"{name}.from_minutes", 0, 10080)
        to_minutes = item.get("to_minutes")
        if to_minutes is not None:
            to_minutes = self.integer(to_minutes, f"{name}.to_minutes", 1, 10080)
            if to_minutes <= from_minutes:
                self.problems.append(f"{name}: to_minutes must be after from_minutes")
        return When(
            windows=self.windows(item.get("windows", []), f"{name}.windows"),
            from_minutes=from_minutes,
            to_minutes=to_minutes,
        )

    def windows(self, value: Any, name: str) -> tuple[Window, ...]:
        windows = []
        for i, item in enumerate(self.items(value, name)):
            label = f"{name}[{i}]"
            days = item.get("days", list(DAY_NAMES))
            if not isinstance(days, list) or not days or any(d not in DAY_NAMES for d in days):
                self.problems.append(f"{label}.days: a non-empty list of {', '.join(DAY_NAMES)}")
                days = list(DAY_NAMES)
            start = self.clock(item.get("start"), f"{label}.start", allow_24=False)
            end = self.clock(item.get("end"), f"{label}.end", allow_24=True)
            if start is not None and end is not None and end == start:
                self.problems.append(f"{label}: start and end are equal (use 00:00-24:00)")
            windows.append(
                Window(
                    days=frozenset(DAY_NAMES.index(d) for d in days),
                    start=start if start is not None else time(0),
                    end=end,
                )
            )
        return tuple(windows)

    def clock(self, value: Any, name: str, *, allow_24: bool) -> time | None:
        if allow_24 and value == "24:00":
            return None
        try:
            if not isinstance(value, str) or len(value) != 5:
                raise ValueError
            return time.fromisoformat(value)
        except ValueError:
            self.problems.append(f"{name}: a time of day such as 07:30")
            return time(0)

    def idle(self, value: Any) -> IdleFee | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.problems.append("idle: an object")
            return None
        known = {"price_per_hour", "grace_minutes", "step_seconds", "windows", "max_amount"}
        for key in sorted(set(value) - known - {"label"}):
            self.problems.append(f"idle: unknown field {key!r}")
        return IdleFee(
            price_per_hour=self.price(value.get("price_per_hour"), "idle.price_per_hour"),
            grace_minutes=self.integer(
                value.get("grace_minutes", 0), "idle.grace_minutes", 0, 1440
            ),
            step_seconds=self.integer(value.get("step_seconds", 60), "idle.step_seconds", 1, 86400),
            windows=self.windows(value.get("windows", []), "idle.windows"),
            max_amount=self.optional_amount(value.get("max_amount"), "idle.max_amount"),
            label=self.text(value.get("label", ""), "idle.label"),
        )

    def reservation(self, value: Any) -> ReservationFees | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.problems.append("reservation: an object")
            return None
        for key in sorted(set(value) - {"fee", "no_show_fee"}):
            self.problems.append(f"reservation: unknown field {key!r}")
        return ReservationFees(
            fee=self.amount(value.get("fee", "0"), "reservation.fee"),
            no_show_fee=self.amount(value.get("no_show_fee", "0"), "reservation.no_show_fee"),
        )


# --- Taxes -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaxRate:
    code: str
    name: str
    rate: Decimal  # a fraction: 0.05 for 5 %
    compound: bool = False  # computed on the subtotal plus the taxes listed before it


@dataclass(frozen=True, slots=True)
class TaxPolicy:
    rates: tuple[TaxRate, ...] = ()
    prices_include_tax: bool = False

    def __post_init__(self) -> None:
        if self.prices_include_tax and any(r.compound for r in self.rates):
            raise TariffError(["compound taxes cannot be included in prices"])
        if any(r.rate < 0 for r in self.rates):
            raise TariffError(["a tax rate cannot be negative"])

    @property
    def total_rate(self) -> Decimal:
        return sum((r.rate for r in self.rates), Decimal(0))


NO_TAX = TaxPolicy()


# --- Session timeline --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MeterInterval:
    """Energy imported between two register readings."""

    start: datetime
    end: datetime
    energy_wh: int


@dataclass(frozen=True, slots=True)
class CarriedFee:
    """A fee owed by the driver from outside this session (a no-show's), in rounded money."""

    kind: str
    label: str
    amount: Decimal
    key: str = ""  # what it settles (for the fingerprint)


@dataclass(frozen=True, slots=True)
class SessionTimeline:
    started_at: datetime  # plug-in / transaction start
    ended_at: datetime  # plug-out / transaction end
    timezone: str  # the site's IANA time zone
    intervals: tuple[MeterInterval, ...] = ()
    charging_ended_at: datetime | None = None  # None: taken from the last interval with energy
    reserved: bool = False  # the session started on a port held for its driver
    carried: tuple[CarriedFee, ...] = ()  # fees charged on this receipt (e.g. earlier no-shows)

    @property
    def energy_wh(self) -> int:
        return sum(i.energy_wh for i in self.intervals)


# --- Result ------------------------------------------------------------------------------------

LINE_SESSION_FEE = "session_fee"
LINE_ENERGY = "energy"
LINE_TIME = "time"
LINE_IDLE = "idle"
LINE_MINIMUM = "minimum"
LINE_MAXIMUM = "maximum"
LINE_FREE = "free"
LINE_RESERVATION = "reservation"
LINE_NO_SHOW = "no_show"

UNIT_WH = "Wh"
UNIT_SECOND = "s"
UNIT_SESSION = "session"


@dataclass(frozen=True, slots=True)
class CostLine:
    """One receipt line.  ``quantity`` is in whole base units (Wh, seconds, sessions);
    ``unit_price`` is per kWh, per hour or per session; ``amount`` is rounded money."""

    kind: str
    label: str
    quantity: int
    unit: str
    unit_price: Decimal | None
    amount: Decimal
    rate_index: int | None = None

    @property
    def display_quantity(self) -> Decimal:
        if self.unit == UNIT_WH:
            return Decimal(self.quantity).scaleb(-3)
        if self.unit == UNIT_SECOND:
            return (Decimal(self.quantity) / 3600).quantize(Decimal("0.0001"))
        return Decimal(self.quantity)

    @property
    def display_unit(self) -> str:
        return {UNIT_WH: "kWh", UNIT_SECOND: "h"}.get(self.unit, self.unit)


@dataclass(frozen=True, slots=True)
class TaxLine:
    code: str
    name: str
    rate: Decimal
    base: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Period:
    """A stretch of the session with one set of applicable prices (for OCPI CDRs)."""

    start: datetime
    end: datetime
    energy_wh: int
    charging: bool
    energy_rate: int | None
    time_rate: int | None
    idle_billable: bool

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())


@dataclass(frozen=True, slots=True)
class CostResult:
    currency: str
    lines: tuple[CostLine, ...]
    taxes: tuple[TaxLine, ...]
    subtotal: Decimal  # sum of lines, in the terms prices are given (with or without tax)
    tax_total: Decimal
    total: Decimal  # what the driver pays
    total_excl_tax: Decimal
    prices_include_tax: bool
    energy_wh: int
    connected_seconds: int
    charging_seconds: int
    idle_seconds: int
    periods: tuple[Period, ...] = field(default=(), repr=False)


# --- The computation ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Segment:
    start: datetime
    end: datetime
    local: datetime
    elapsed: int
    energy_wh: int = 0

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())


def compute_cost(
    tariff: Tariff, timeline: SessionTimeline, taxes: TaxPolicy = NO_TAX
) -> CostResult:
    """Price one session.  Pure and deterministic; raises ``TimelineError`` on bad data."""
    zone = _zone(timeline.timezone)
    started, ended, charging_end, intervals = _normalise(timeline)
    currency = tariff.currency

    idle_from = None
    if tariff.idle is not None and charging_end < ended:
        idle_from = charging_end + timedelta(minutes=tariff.idle.grace_minutes)

    cuts: set[datetime] = {charging_end}
    if idle_from is not None:
        cuts.add(idle_from)
    for interval in intervals:
        cuts.update((interval.start, interval.end))
    for rate in (*tariff.energy, *tariff.time):
        cuts.add(started + timedelta(minutes=rate.when.from_minutes))
        if rate.when.to_minutes is not None:
            cuts.add(started + timedelta(minutes=rate.when.to_minutes))
    edge_times = frozenset(edge for window in tariff.windows() for edge in window.edges)
    if edge_times:
        cuts.update(_wall_clock_cuts(zone, started, ended, edge_times))
    points = [started, *sorted(c for c in cuts if started < c < ended), ended]

    segments = [
        _Segment(a, b, _local(zone, a), int((a - started).total_seconds()))
        for a, b in zip(points, points[1:], strict=False)
        if b > a
    ] or [_Segment(started, started, _local(zone, started), 0)]
    _spread_energy(segments, intervals)

    energy_wh: dict[int, int] = {}
    time_seconds: dict[int, int] = {}
    last_time_rate: int | None = None
    idle_seconds = 0
    periods: list[Period] = []
    time_until = ended if tariff.time_basis == TIME_BASIS_CONNECTED else charging_end
    for segment in segments:
        energy_rate = _first_match(tariff.energy, segment)
        if energy_rate is not None and segment.energy_wh:
            energy_wh[energy_rate] = energy_wh.get(energy_rate, 0) + segment.energy_wh
        time_rate = _first_match(tariff.time, segment) if segment.start < time_until else None
        if time_rate is not None and segment.seconds:
            time_seconds[time_rate] = time_seconds.get(time_rate, 0) + segment.seconds
            last_time_rate = time_rate
        idle_billable = (
            idle_from is not None
            and segment.start >= idle_from
            and (
                not tariff.idle.windows
                or any(w.contains(segment.local) for w in tariff.idle.windows)
            )
        )
        if idle_billable:
            idle_seconds += segment.seconds
        _add_period(
            periods,
            Period(
                start=segment.start,
                end=segment.end,
                energy_wh=segment.energy_wh,
                charging=segment.start < charging_end,
                energy_rate=energy_rate,
                time_rate=time_rate,
                idle_billable=idle_billable,
            ),
        )

    if last_time_rate is not None:
        raw = sum(time_seconds.values())
        time_seconds[last_time_rate] += _round_up(raw, tariff.time_step_seconds) - raw

    lines: list[CostLine] = []
    if tariff.session_fee:
        lines.append(
            CostLine(
                LINE_SESSION_FEE,
                "Session fee",
                1,
                UNIT_SESSION,
                tariff.session_fee,
                tariff.session_fee,
            )
        )
    for index in sorted(energy_wh):
        rate = tariff.energy[index]
        amount = round_money(Fraction(rate.price_per_kwh) * energy_wh[index] / 1000, currency)
        label = f"Energy{_suffix(rate.label)}"
        lines.append(
            CostLine(
                LINE_ENERGY, label, energy_wh[index], UNIT_WH, rate.price_per_kwh, amount, index
            )
        )
    for index in sorted(time_seconds):
        rate = tariff.time[index]
        seconds = time_seconds[index]
        amount = round_money(Fraction(rate.price_per_hour) * seconds / 3600, currency)
        basis = "Charging time" if tariff.time_basis == TIME_BASIS_CHARGING else "Time"
        lines.append(
            CostLine(
                LINE_TIME,
                f"{basis}{_suffix(rate.label)}",
                seconds,
                UNIT_SECOND,
                rate.price_per_hour,
                amount,
                index,
            )
        )
    if idle_seconds and tariff.idle is not None:
        idle = tariff.idle
        billed = _round_up(idle_seconds, idle.step_seconds)
        amount = round_money(Fraction(idle.price_per_hour) * billed / 3600, currency)
        label = f"Idle fee after {idle.grace_minutes} min grace{_suffix(idle.label)}"
        if idle.max_amount is not None and amount > idle.max_amount:
            amount, label = idle.max_amount, f"{label} (capped)"
        lines.append(CostLine(LINE_IDLE, label, billed, UNIT_SECOND, idle.price_per_hour, amount))

    total_energy = sum(s.energy_wh for s in segments)
    subtotal = money_sum((line.amount for line in lines), currency)
    if tariff.min_price is not None and total_energy > 0 and subtotal < tariff.min_price:
        adjustment = tariff.min_price - subtotal
        lines.append(
            CostLine(LINE_MINIMUM, "Minimum session price", 1, UNIT_SESSION, None, adjustment)
        )
        subtotal = tariff.min_price
    if tariff.max_price is not None and subtotal > tariff.max_price:
        adjustment = tariff.max_price - subtotal
        lines.append(
            CostLine(LINE_MAXIMUM, "Maximum session price", 1, UNIT_SESSION, None, adjustment)
        )
        subtotal = tariff.max_price
    if not lines and tariff.is_free:
        lines.append(
            CostLine(LINE_FREE, "Free charging", total_energy, UNIT_WH, Decimal(0), zero(currency))
        )
    # Reservation fees, outside the session price's minimum and maximum.
    if timeline.reserved and tariff.reservation is not None and tariff.reservation.fee:
        fee = tariff.reservation.fee
        lines.append(CostLine(LINE_RESERVATION, "Reservation fee", 1, UNIT_SESSION, fee, fee))
        subtotal += fee
    for carried in timeline.carried:
        check_amount(carried.amount, currency)
        lines.append(
            CostLine(carried.kind, carried.label, 1, UNIT_SESSION, carried.amount, carried.amount)
        )
        subtotal += carried.amount

    tax_lines = _taxes(subtotal, taxes, currency)
    tax_total = money_sum((t.amount for t in tax_lines), currency)
    if taxes.prices_include_tax:
        total, total_excl = subtotal, subtotal - tax_total
    else:
        total, total_excl = subtotal + tax_total, subtotal
    connected = int((ended - started).total_seconds())
    return CostResult(
        currency=currency,
        lines=tuple(lines),
        taxes=tuple(tax_lines),
        subtotal=subtotal,
        tax_total=tax_total,
        total=total,
        total_excl_tax=total_excl,
        prices_include_tax=taxes.prices_include_tax,
        energy_wh=total_energy,
        connected_seconds=connected,
        charging_seconds=int((charging_end - started).total_seconds()),
        idle_seconds=int((ended - charging_end).total_seconds()),
        periods=tuple(periods),
    )


def _suffix(label: str) -> str:
    return f" — {label}" if label else ""


def _round_up(seconds: int, step: int) -> int:
    return ceil(seconds / step) * step if seconds else 0


def _first_match(rates: Sequence[EnergyRate | TimeRate], segment: _Segment) -> int | None:
    for index, rate in enumerate(rates):
        if rate.when.matches(segment.local, segment.elapsed):
            return index
    return None


def _add_period(periods: list[Period], period: Period) -> None:
    if periods:
        last = periods[-1]
        same = (last.charging, last.energy_rate, last.time_rate, last.idle_billable) == (
            period.charging,
            period.energy_rate,
            period.time_rate,
            period.idle_billable,
        )
        if same and last.end == period.start:
            periods[-1] = Period(
                start=last.start,
                end=period.end,
                energy_wh=last.energy_wh + period.energy_wh,
                charging=last.charging,
                energy_rate=last.energy_rate,
                time_rate=last.time_rate,
                idle_billable=last.idle_billable,
            )
            return
    periods.append(period)


def _taxes(subtotal: Decimal, policy: TaxPolicy, currency: str) -> list[TaxLine]:
    lines: list[TaxLine] = []
    if policy.prices_include_tax:
        # The price already contains every tax: net = gross / (1 + sum of rates); each tax
        # is its rate on that exact net, rounded once.  Net shown = gross - taxes.
        net = Fraction(subtotal) / (1 + Fraction(policy.total_rate))
        for rate in policy.rates:
            amount = round_money(net * Fraction(rate.rate), currency)
            lines.append(
                TaxLine(rate.code, rate.name, rate.rate, round_money(net, currency), amount)
            )
        return lines
    running = subtotal
    for rate in policy.rates:
        base = running if rate.compound else subtotal
        amount = round_money(Fraction(base) * Fraction(rate.rate), currency)
        lines.append(TaxLine(rate.code, rate.name, rate.rate, base, amount))
        running += amount
    return lines


def _zone(name: str) -> ZoneInfo:
    try:
        return _zone_cached(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise TimelineError(f"unknown time zone {name!r}") from error


@lru_cache(maxsize=256)
def _zone_cached(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _utc_second(value: datetime, name: str) -> datetime:
    if value.tzinfo is UTC and not value.microsecond:
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise TimelineError(f"{name} must be timezone-aware")
    return value.astimezone(UTC).replace(microsecond=0)


def _normalise(
    timeline: SessionTimeline,
) -> tuple[datetime, datetime, datetime, list[MeterInterval]]:
    """UTC, whole seconds (sub-second parts are dropped), checked for order and sign."""
    started = _utc_second(timeline.started_at, "started_at")
    ended = _utc_second(timeline.ended_at, "ended_at")
    if ended < started:
        raise TimelineError("the session ends before it starts")
    intervals: list[MeterInterval] = []
    previous_end = started
    for number, interval in enumerate(timeline.intervals):
        start = _utc_second(interval.start, f"interval {number} start")
        end = _utc_second(interval.end, f"interval {number} end")
        if isinstance(interval.energy_wh, bool) or not isinstance(interval.energy_wh, int):
            raise TimelineError(f"interval {number}: energy is a whole number of Wh")
        if interval.energy_wh < 0:
            raise TimelineError(f"interval {number}: negative energy")
        if end < start or start < previous_end or end > ended:
            raise TimelineError(
                f"interval {number}: intervals must be ordered, not overlap, and lie within "
                "the session"
            )
        previous_end = end
        intervals.append(MeterInterval(start, end, interval.energy_wh))
    if timeline.charging_ended_at is not None:
        charging_end = _utc_second(timeline.charging_ended_at, "charging_ended_at")
    else:
        # Without a recorded end of charging, charging ends where the last energy was
        # measured; with no energy data at all there is no idle time (the driver's benefit).
        with_energy = [i for i in intervals if i.energy_wh > 0]
        charging_end = with_energy[-1].end if with_energy else ended
    charging_end = min(max(charging_end, started), ended)
    return started, ended, charging_end, intervals


def _spread_energy(segments: list[_Segment], intervals: Sequence[MeterInterval]) -> None:
    """Give each segment its share of each interval's Wh, in proportion to time.

    Segments never straddle an interval edge (edges are cut points).  Shares are whole Wh by
    largest remainder (ties to the earlier segment), so energy is never created or lost.
    """
    starts = [s.start for s in segments]
    for interval in intervals:
        if not interval.energy_wh:
            continue
        if interval.end == interval.start:
            index = max(bisect_right(starts, interval.start) - 1, 0)
            segments[index].energy_wh += interval.energy_wh
            continue
        first = bisect_left(starts, interval.start)
        inside = []
        for segment in segments[first:]:
            if segment.start >= interval.end:
                break
            inside.append(segment)
        if len(inside) == 1:
            inside[0].energy_wh += interval.energy_wh
            continue
        total_seconds = int((interval.end - interval.start).total_seconds())
        # Exact integer shares: quotient and remainder of energy * seconds / total.
        parts = [divmod(interval.energy_wh * s.seconds, total_seconds) for s in inside]
        shares = [quotient for quotient, _ in parts]
        left = interval.energy_wh - sum(shares)
        order = sorted(range(len(inside)), key=lambda i: (-parts[i][1], i))
        for i in order[:left]:
            shares[i] += 1
        for segment, share in zip(inside, shares, strict=True):
            segment.energy_wh += share


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    return instant.astimezone(zone).utcoffset() or timedelta(0)


def _local(zone: ZoneInfo, instant: datetime) -> datetime:
    """Naive wall-clock time at a UTC instant."""
    return (instant + _offset(zone, instant)).replace(tzinfo=None)


def _offset_pieces(
    zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime, timedelta]]:
    """``[start, end)`` cut where the zone's UTC offset changes (DST), with each offset."""
    pieces: list[tuple[datetime, datetime, timedelta]] = []
    piece_start, offset = start, _offset(zone, start)
    probe = start
    last = end - _SECOND if end - start >= _SECOND else start
    while probe < last:
        following = min(probe + _PROBE, last)
        following_offset = _offset(zone, following)
        if following_offset != offset:
            # Bisect to the first whole second with the new offset.
            low, high = 0, int((following - probe).total_seconds())
            while high - low > 1:
                middle = (low + high) // 2
                if _offset(zone, probe + timedelta(seconds=middle)) == offset:
                    low = middle
                else:
                    high = middle
            change = probe + timedelta(seconds=high)
            pieces.append((piece_start, change, offset))
            piece_start, offset = change, following_offset
        probe = following
    pieces.append((piece_start, end, offset))
    return pieces


def _wall_clock_cuts(
    zone: ZoneInfo, start: datetime, end: datetime, edges: frozenset[time]
) -> set[datetime]:
    """UTC instants in ``(start, end)`` where the site's clock shows one of ``edges``, plus the
    DST changes themselves (a window can open or close by the clock jumping past its edge)."""
    cuts: set[datetime] = set()
    for piece_start, piece_end, offset in _offset_pieces(zone, start, end):
        cuts.add(piece_start)
        local_start = (piece_start + offset).replace(tzinfo=None)
        local_end = (piece_end + offset).replace(tzinfo=None)
        day: date = local_start.date() - timedelta(days=1)
        while day <= local_end.date():
            for edge in edges:
                candidate = datetime.combine(day, edge)
                if local_start < candidate < local_end:
                    cuts.add((candidate - offset).replace(tzinfo=UTC))
            day += timedelta(days=1)
    return cuts


# --- Which tariff applies ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AssignmentCandidate:
    """A tariff assignment as the precedence rule sees it (built by the selector)."""

    assignment_id: int
    tariff_id: int
    station_id: int | None = None
    site_id: int | None = None
    group_id: int | None = None
    group_priority: int = 0
    priority: int = 0

    @property
    def scope_rank(self) -> int:
        if self.station_id is not None:
            return 0
        if self.site_id is not None:
            return 1
        return 2


def select_assignment(
    candidates: Iterable[AssignmentCandidate],
    *,
    station_id: int | None,
    site_id: int | None,
    group_ids: Iterable[int] = (),
) -> AssignmentCandidate | None:
    """The assignment that prices a session: who you are beats where you are.

    1. A tariff for one of the driver's groups beats any public tariff; between groups, the
       group with the lower ``priority`` number wins.
    2. Then the most specific place: station, then site, then the tenant-wide default.
    3. Then the assignment's own ``priority`` (lower first), then the oldest assignment.
    """
    groups = set(group_ids)
    eligible = [
        c
        for c in candidates
        if (c.station_id is None or c.station_id == station_id)
        and (c.site_id is None or c.site_id == site_id)
        and (c.group_id is None or c.group_id in groups)
    ]
    if not eligible:
        return None
    return min(
        eligible,
        key=lambda c: (
            c.group_id is None,
            c.group_priority if c.group_id is not None else 0,
            c.scope_rank,
            c.priority,
            c.assignment_id,
        ),
    )


# --- Fingerprint -------------------------------------------------------------------------------


def inputs_digest(tariff: Tariff, timeline: SessionTimeline, taxes: TaxPolicy = NO_TAX) -> str:
    """SHA-256 of the canonical form of everything ``compute_cost`` reads."""
    document = {
        "engine": ENGINE_VERSION,
        "tariff": tariff.to_dict(),
        "timeline": {
            "started_at": _utc_second(timeline.started_at, "started_at").isoformat(),
            "ended_at": _utc_second(timeline.ended_at, "ended_at").isoformat(),
            "charging_ended_at": None
            if timeline.charging_ended_at is None
            else _utc_second(timeline.charging_ended_at, "charging_ended_at").isoformat(),
            "timezone": timeline.timezone,
            "intervals": [
                [
                    _utc_second(i.start, "start").isoformat(),
                    _utc_second(i.end, "end").isoformat(),
                    i.energy_wh,
                ]
                for i in timeline.intervals
            ],
            **({"reserved": True} if timeline.reserved else {}),
            **(
                {"carried": [[c.kind, c.label, str(c.amount), c.key] for c in timeline.carried]}
                if timeline.carried
                else {}
            ),
        },
        "taxes": {
            "prices_include_tax": taxes.prices_include_tax,
            "rates": [[r.code, r.name, str(r.rate), r.compound] for r in taxes.rates],
        },
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
