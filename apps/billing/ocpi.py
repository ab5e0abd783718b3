"""OCPI 2.2.1 shapes of our tariffs and priced sessions (Tariff and CDR objects).

Pure functions over the engine's types, for the roaming feature to publish later.  Numbers are
returned as ``Decimal`` (OCPI numbers have at most 4 decimals): serialise them as JSON numbers.

What OCPI cannot say exactly is said in ``tariff_alt_text`` (human-readable, as the spec
intends): an idle grace period (OCPI restrictions count from the session start, not from the
end of charging) and a cap on the idle fee.  Connected-time prices are published as ``TIME``
plus ``PARKING_TIME`` components of the same price.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from .engine import (
    LINE_ENERGY,
    LINE_IDLE,
    LINE_MAXIMUM,
    LINE_MINIMUM,
    LINE_SESSION_FEE,
    LINE_TIME,
    NO_TAX,
    TIME_BASIS_CONNECTED,
    CostResult,
    Tariff,
    TaxPolicy,
    When,
    Window,
)
from .money import money_sum

OCPI_DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
_FOUR = Decimal("0.0001")


def ocpi_datetime(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _number(value: Decimal | Fraction) -> Decimal:
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return value.quantize(_FOUR, rounding=ROUND_HALF_UP)


def effective_tax_rate(taxes: TaxPolicy) -> Fraction:
    """Tax per unit of net price, compound rates included (0.14975 for GST + QST)."""
    base = Fraction(1)
    total = Fraction(0)
    for rate in taxes.rates:
        total += (base + total if rate.compound else base) * Fraction(rate.rate)
    return total


def _price(amount: Decimal, taxes: TaxPolicy) -> dict[str, Decimal]:
    """An OCPI Price from an amount in the tariff's terms (with or without tax)."""
    rate = effective_tax_rate(taxes)
    if taxes.prices_include_tax:
        return {"excl_vat": _number(Fraction(amount) / (1 + rate)), "incl_vat": _number(amount)}
    return {"excl_vat": _number(amount), "incl_vat": _number(Fraction(amount) * (1 + rate))}


def _net(price: Decimal, taxes: TaxPolicy) -> Decimal:
    if taxes.prices_include_tax:
        return _number(Fraction(price) / (1 + effective_tax_rate(taxes)))
    return _number(price)


def _component(kind: str, price: Decimal, step: int, taxes: TaxPolicy) -> dict[str, Any]:
    component: dict[str, Any] = {"type": kind, "price": _net(price, taxes), "step_size": step}
    if taxes.rates:
        component["vat"] = _number(effective_tax_rate(taxes) * 100)
    return component


def _clock(value: time) -> str:
    return value.strftime("%H:%M")


def _window_restrictions(window: Window) -> list[dict[str, Any]]:
    """OCPI day_of_week applies to the moment, not to the day a window opens: a window that
    wraps past midnight becomes two restrictions."""
    days = sorted(window.days)
    if not window.wraps:
        restriction: dict[str, Any] = {"start_time": _clock(window.start)}
        if window.end is not None:
            restriction["end_time"] = _clock(window.end)
        if len(days) < 7:
            restriction["day_of_week"] = [OCPI_DAYS[d] for d in days]
        if window.start == time(0) and window.end is None:
            restriction.pop("start_time")
        return [restriction]
    assert window.end is not None
    evening: dict[str, Any] = {"start_time": _clock(window.start)}
    morning: dict[str, Any] = {"start_time": "00:00", "end_time": _clock(window.end)}
    if len(days) < 7:
        evening["day_of_week"] = [OCPI_DAYS[d] for d in days]
        morning["day_of_week"] = [OCPI_DAYS[(d + 1) % 7] for d in days]
    return [evening, morning]


def _restrictions(when: When) -> list[dict[str, Any]]:
    """One OCPI restriction object per way ``when`` can match (several for several windows)."""
    duration: dict[str, Any] = {}
    if when.from_minutes:
        duration["min_duration"] = when.from_minutes * 60
    if when.to_minutes is not None:
        duration["max_duration"] = when.to_minutes * 60
    if not when.windows:
        return [duration] if duration else [{}]
    return [
        {**restriction, **duration}
        for window in when.windows
        for restriction in _window_restrictions(window)
    ]


def _element(components: list[dict[str, Any]], restriction: Mapping[str, Any]) -> dict[str, Any]:
    element: dict[str, Any] = {"price_components": components}
    if restriction:
        element["restrictions"] = dict(restriction)
    return element


def tariff_to_ocpi(
    tariff: Tariff,
    *,
    tariff_id: str,
    country_code: str,
    party_id: str,
    last_updated: datetime,
    taxes: TaxPolicy = NO_TAX,
    start_date_time: datetime | None = None,
    end_date_time: datetime | None = None,
    alt_text: Sequence[Mapping[str, str]] = (),
) -> dict[str, Any]:
    """The OCPI 2.2.1 Tariff object for ``tariff``."""
    elements: list[dict[str, Any]] = []
    if tariff.session_fee or tariff.is_free:
        elements.append(_element([_component("FLAT", tariff.session_fee, 1, taxes)], {}))
    for rate in tariff.energy:
        for restriction in _restrictions(rate.when):
            elements.append(
                _element([_component("ENERGY", rate.price_per_kwh, 1, taxes)], restriction)
            )
    for rate in tariff.time:
        components = [_component("TIME", rate.price_per_hour, tariff.time_step_seconds, taxes)]
        if tariff.time_basis == TIME_BASIS_CONNECTED:
            components.append(
                _component("PARKING_TIME", rate.price_per_hour, tariff.time_step_seconds, taxes)
            )
        for restriction in _restrictions(rate.when):
            elements.append(_element(components, restriction))
    texts = list(alt_text)
    if tariff.idle is not None:
        idle = tariff.idle
        component = _component("PARKING_TIME", idle.price_per_hour, idle.step_seconds, taxes)
        for restriction in _restrictions(When(windows=idle.windows)):
            elements.append(_element([component], restriction))
        if idle.grace_minutes:
            texts.append(
                {
                    "language": "en",
                    "text": f"Parking after charging is free for the first "
                    f"{idle.grace_minutes} minutes.",
                }
            )
        if idle.max_amount is not None:
            texts.append(
                {
                    "language": "en",
                    "text": f"The parking fee is capped at {idle.max_amount} {tariff.currency}.",
                }
            )
    if not elements:
        elements.append(_element([_component("FLAT", Decimal(0), 1, taxes)], {}))
    result: dict[str, Any] = {
        "country_code": country_code,
        "party_id": party_id,
        "id": tariff_id,
        "currency": tariff.currency,
        "type": "REGULAR",
        "elements": elements,
        "last_updated": ocpi_datetime(last_updated),
    }
    if texts:
        result["tariff_alt_text"] = texts
    if tariff.min_price is not None:
        result["min_price"] = _price(tariff.min_price, taxes)
    if tariff.max_price is not None:
        result["max_price"] = _price(tariff.max_price, taxes)
    if start_date_time is not None:
        result["start_date_time"] = ocpi_datetime(start_date_time)
    if end_date_time is not None:
        result["end_date_time"] = ocpi_datetime(end_date_time)
    return result


def cdr_from_cost(
    cost: CostResult,
    *,
    cdr_id: str,
    country_code: str,
    party_id: str,
    session_id: str,
    started_at: datetime,
    ended_at: datetime,
    cdr_token: Mapping[str, Any],
    cdr_location: Mapping[str, Any],
    last_updated: datetime,
    auth_method: str = "WHITELIST",
    tariff_id: str | None = None,
    tariffs: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The OCPI 2.2.1 CDR object of a priced session.

    Charging periods are the engine's periods (one per change of applicable price); minimum
    and maximum price adjustments count as fixed cost.
    """
    periods = []
    for period in cost.periods:
        if not period.seconds and not period.energy_wh:
            continue
        dimensions: list[dict[str, Any]] = []
        if period.energy_wh:
            dimensions.append(
                {"type": "ENERGY", "volume": _number(Decimal(period.energy_wh) / 1000)}
            )
        hours = _number(Fraction(period.seconds, 3600))
        dimensions.append({"type": "TIME" if period.charging else "PARKING_TIME", "volume": hours})
        entry: dict[str, Any] = {
            "start_date_time": ocpi_datetime(period.start),
            "dimensions": dimensions,
        }
        if tariff_id is not None:
            entry["tariff_id"] = tariff_id
        periods.append(entry)

    def total(*kinds: str) -> Decimal:
        return money_sum((line.amount for line in cost.lines if line.kind in kinds), cost.currency)

    def price(amount: Decimal) -> dict[str, Decimal]:
        # Split a line total the same way the session's taxes were applied.
        if cost.subtotal == 0:
            return {"excl_vat": _number(amount), "incl_vat": _number(amount)}
        share = Fraction(amount) / Fraction(cost.subtotal)
        return {
            "excl_vat": _number(Fraction(cost.total_excl_tax) * share),
            "incl_vat": _number(Fraction(cost.total) * share),
        }

    result: dict[str, Any] = {
        "country_code": country_code,
        "party_id": party_id,
        "id": cdr_id,
        "start_date_time": ocpi_datetime(started_at),
        "end_date_time": ocpi_datetime(ended_at),
        "session_id": session_id,
        "cdr_token": dict(cdr_token),
        "auth_method": auth_method,
        "cdr_location": dict(cdr_location),
        "currency": cost.currency,
        "charging_periods": periods,
        "total_cost": {"excl_vat": _number(cost.total_excl_tax), "incl_vat": _number(cost.total)},
        "total_fixed_cost": price(total(LINE_SESSION_FEE, LINE_MINIMUM, LINE_MAXIMUM)),
        "total_energy": _number(Decimal(cost.energy_wh) / 1000),
        "total_energy_cost": price(total(LINE_ENERGY)),
        "total_time": _number(Fraction(cost.connected_seconds, 3600)),
        "total_time_cost": price(total(LINE_TIME)),
        "total_parking_time": _number(Fraction(cost.idle_seconds, 3600)),
        "total_parking_cost": price(total(LINE_IDLE)),
        "last_updated": ocpi_datetime(last_updated),
    }
    if tariffs:
        result["tariffs"] = [dict(t) for t in tariffs]
    return result
