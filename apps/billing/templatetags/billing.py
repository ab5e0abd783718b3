"""Money in templates: amounts with exactly their currency's decimals."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils import formats

from apps.billing.money import MoneyError, minor_unit

register = template.Library()


@register.filter
def money(amount, currency: str = "") -> str:
    """``12.3400`` CAD → ``12.34 CAD`` (the database keeps four decimals for every currency)."""
    if amount is None or amount == "":
        return "—"
    try:
        places = minor_unit(currency) if currency else 2
    except MoneyError:
        places = 2
    value = Decimal(amount).quantize(Decimal(1).scaleb(-places))
    text = formats.number_format(value, places, use_l10n=True, force_grouping=True)
    return f"{text} {currency}".strip()


@register.filter
def percent_of_fraction(rate) -> str:
    """A tax rate stored as a fraction (0.09975) shown as 9.975 %."""
    if rate is None:
        return ""
    percent = (Decimal(rate) * 100).normalize()
    if percent == percent.to_integral():
        percent = percent.quantize(Decimal(1))
    return formats.number_format(percent, use_l10n=True) + " %"


@register.filter
def quantity(value) -> str:
    """A quantity or unit price without trailing zeros, localised: 12.3450 → 12.345."""
    if value is None or value == "":
        return ""
    number = Decimal(value).normalize()
    if number == number.to_integral():
        number = number.quantize(Decimal(1))
    return formats.number_format(number, use_l10n=True, force_grouping=True)
