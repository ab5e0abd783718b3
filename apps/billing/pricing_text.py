"""Tariffs in words, for drivers: the station's display message, the price API, receipts."""

from __future__ import annotations

from decimal import Decimal

from django.utils import formats
from django.utils.translation import gettext as _

from .engine import DAY_NAMES, TIME_BASIS_CHARGING, Tariff, TaxPolicy, When, Window


def _price(value: Decimal) -> str:
    """At least two decimals, more only when the price has them: 0.30, 0.2345; in the
    reader's locale (fr: 0,30; 1 200,00)."""
    normal = Decimal(value).normalize()
    if normal.as_tuple().exponent > -2:
        normal = normal.quantize(Decimal("0.01"))
    places = max(2, -normal.as_tuple().exponent)
    return formats.number_format(normal, places, use_l10n=True, force_grouping=True)


def _days(window: Window) -> str:
    days = sorted(window.days)
    if len(days) == 7:
        return ""
    if days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        return f" {DAY_NAMES[days[0]].title()}-{DAY_NAMES[days[-1]].title()}"
    return " " + ",".join(DAY_NAMES[d].title() for d in days)


def _when(when: When) -> str:
    parts = []
    for window in when.windows:
        end = "24:00" if window.end is None else window.end.strftime("%H:%M")
        parts.append(f"{window.start:%H:%M}-{end}{_days(window)}")
    if when.from_minutes:
        parts.append(_("after %(m)s min") % {"m": when.from_minutes})
    if when.to_minutes is not None:
        parts.append(_("first %(m)s min") % {"m": when.to_minutes})
    return f" ({'; '.join(parts)})" if parts else ""


def _window_dict(window: Window) -> dict:
    return {
        "days": [DAY_NAMES[d] for d in sorted(window.days)],
        "start": f"{window.start:%H:%M}",
        "end": "24:00" if window.end is None else window.end.strftime("%H:%M"),
    }


def _when_dict(when: When) -> dict:
    return {
        "windows": [_window_dict(window) for window in when.windows],
        "from_minutes": when.from_minutes or None,
        "to_minutes": when.to_minutes,
    }


def tariff_components(tariff: Tariff) -> list[dict]:
    """Each part of the price with its numbers and one line of text, in the order the
    engine applies them (the first matching rate of each kind wins)."""
    c = tariff.currency
    parts: list[dict] = []
    if tariff.session_fee:
        parts.append(
            {
                "kind": "session_fee",
                "amount": tariff.session_fee,
                "text": _("%(amount)s %(c)s per session")
                % {"amount": _price(tariff.session_fee), "c": c},
            }
        )
    for rate in tariff.energy:
        parts.append(
            {
                "kind": "energy",
                "price_per_kwh": rate.price_per_kwh,
                "label": rate.label,
                **_when_dict(rate.when),
                "text": f"{_price(rate.price_per_kwh)} {c}/kWh{_when(rate.when)}",
            }
        )
    for rate in tariff.time:
        unit = _("/h charging") if tariff.time_basis == TIME_BASIS_CHARGING else "/h"
        parts.append(
            {
                "kind": "time",
                "price_per_hour": rate.price_per_hour,
                "label": rate.label,
                "basis": tariff.time_basis,
                "step_seconds": tariff.time_step_seconds,
                **_when_dict(rate.when),
                "text": f"{_price(rate.price_per_hour)} {c}{unit}{_when(rate.when)}",
            }
        )
    if tariff.idle is not None:
        idle = tariff.idle
        parts.append(
            {
                "kind": "idle",
                "price_per_hour": idle.price_per_hour,
                "grace_minutes": idle.grace_minutes,
                "step_seconds": idle.step_seconds,
                "max_amount": idle.max_amount,
                "windows": [_window_dict(window) for window in idle.windows],
                "text": _("idle %(price)s %(c)s/h after %(grace)s min")
                % {"price": _price(idle.price_per_hour), "c": c, "grace": idle.grace_minutes},
            }
        )
    if tariff.min_price is not None:
        parts.append(
            {
                "kind": "min_price",
                "amount": tariff.min_price,
                "text": _("min %(amount)s %(c)s") % {"amount": _price(tariff.min_price), "c": c},
            }
        )
    if tariff.max_price is not None:
        parts.append(
            {
                "kind": "max_price",
                "amount": tariff.max_price,
                "text": _("max %(amount)s %(c)s") % {"amount": _price(tariff.max_price), "c": c},
            }
        )
    reservation = tariff.reservation
    if reservation is not None and reservation.fee:
        parts.append(
            {
                "kind": "reservation_fee",
                "amount": reservation.fee,
                "text": _("reservation %(amount)s %(c)s") % {"amount": reservation.fee, "c": c},
            }
        )
    if reservation is not None and reservation.no_show_fee:
        parts.append(
            {
                "kind": "no_show_fee",
                "amount": reservation.no_show_fee,
                "text": _("no-show %(amount)s %(c)s") % {"amount": reservation.no_show_fee, "c": c},
            }
        )
    return parts


def describe_taxes(taxes: TaxPolicy | None) -> str:
    if taxes is None or not taxes.rates:
        return ""
    names = ", ".join(r.name for r in taxes.rates)
    return (_("(incl. %(t)s)") if taxes.prices_include_tax else _("+ %(t)s")) % {"t": names}


def describe_tariff(tariff: Tariff, taxes: TaxPolicy | None = None) -> str:
    if tariff.is_free:
        return _("Free charging")
    text = "; ".join(part["text"] for part in tariff_components(tariff))
    tax_text = describe_taxes(taxes)
    return f"{text} {tax_text}" if tax_text else text
