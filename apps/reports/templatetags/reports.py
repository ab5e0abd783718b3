"""Report helpers: a measure against the previous period."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils import formats

register = template.Library()


def _fixed(value: Decimal, places: int) -> str:
    """Rounded half up (Django's number_format cuts Decimals off), in the locale's format."""
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return formats.number_format(rounded, places, use_l10n=True)


@register.simple_tag
def change(current, previous) -> str:
    """``+12.5 %`` / ``−3.0 %`` / ``—`` (no previous value)."""
    if current is None or not previous:
        return "—"
    percent = (Decimal(current) - Decimal(previous)) / Decimal(previous) * 100
    sign = "+" if percent >= 0 else "−"
    return f"{sign}{_fixed(abs(percent), 1)} %"


@register.filter
def percent(value) -> str:
    if value is None:
        return "—"
    return f"{_fixed(value, 1)} %"


@register.filter
def money(value) -> str:
    if value is None:
        return "—"
    return _fixed(Decimal(value), 2)


@register.filter
def hours_of(seconds) -> str:
    if seconds is None:
        return "—"
    return _fixed(Decimal(seconds) / 3600, 1) + " h"


@register.filter
def kg(grams) -> str:
    if grams is None:
        return "—"
    return _fixed(Decimal(grams) / 1000, 1) + " kg"
