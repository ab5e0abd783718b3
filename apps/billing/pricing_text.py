"""Tariffs in words, for drivers: the station's display message, the price API, receipts."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from .engine import DAY_NAMES, TIME_BASIS_CHARGING, Tariff, TaxPolicy, When, Window


def _price(value: Decimal) -> str:
    """At least two decimals, more only when the price has them: 0.30, 0.2345."""
    normal = value.normalize()
    if normal.as_tuple().exponent > -2:
        normal = normal.quantize(Decimal("0.01"))
    return f"{normal:f}"


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


def describe_tariff(tariff: Tariff, taxes: TaxPolicy | None = None) -> str:
    c = tariff.currency
    if tariff.is_free:
        return _("Free charging")
    parts = []
    if tariff.session_fee:
        parts.append(_("%(amount)s %(c)s per session") % {"amount": tariff.session_fee, "c": c})
    for rate in tariff.energy:
        parts.append(f"{_price(rate.price_per_kwh)} {c}/kWh{_when(rate.when)}")
    for rate in tariff.time:
        unit = _("/h charging") if tariff.time_basis == TIME_BASIS_CHARGING else "/h"
        parts.append(f"{_price(rate.price_per_hour)} {c}{unit}{_when(rate.when)}")
    if tariff.idle is not None:
        parts.append(
            _("idle %(price)s %(c)s/h after %(grace)s min")
            % {
                "price": _price(tariff.idle.price_per_hour),
                "c": c,
                "grace": tariff.idle.grace_minutes,
            }
        )
    if tariff.min_price is not None:
        parts.append(_("min %(amount)s %(c)s") % {"amount": tariff.min_price, "c": c})
    if tariff.max_price is not None:
        parts.append(_("max %(amount)s %(c)s") % {"amount": tariff.max_price, "c": c})
    text = "; ".join(parts)
    if taxes is not None and taxes.rates:
        names = ", ".join(r.name for r in taxes.rates)
        text += " " + (_("(incl. %(t)s)") if taxes.prices_include_tax else _("+ %(t)s")) % {
            "t": names
        }
    return text
