"""Report helpers: a measure against the previous period."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils import formats

register = template.Library()


@register.simple_tag
def change(current, previous) -> str:
    """``+12.5 %`` / ``−3.0 %`` / ``—`` (no previous value)."""
    if current is None or not previous:
        return "—"
    percent = (Decimal(current) - Decimal(previous)) / Decimal(previous) * 100
    sign = "+" if percent >= 0 else "−"
    return f"{sign}{formats.number_format(abs(percent), 1, use_l10n=True)} %"


@register.filter
def percent(value) -> str:
    if value is None:
        return "—"
    return f"{formats.number_format(value, 1, use_l10n=True)} %"


@register.filter
def money(value) -> str:
    if value is None:
        return "—"
    return formats.number_format(Decimal(value), 2, use_l10n=True)


@register.filter
def hours_of(seconds) -> str:
    if seconds is None:
        return "—"
    return formats.number_format(Decimal(seconds) / 3600, 1, use_l10n=True) + " h"


@register.filter
def kg(grams) -> str:
    if grams is None:
        return "—"
    return formats.number_format(Decimal(grams) / 1000, 1, use_l10n=True) + " kg"
