"""Exact money: currency minor units and the one rounding rule of billing.

Every amount that reaches a receipt, the ledger or a bank file is a ``Decimal`` with exactly the
currency's number of decimals (ISO 4217 minor unit).  Intermediate values are exact rationals
(``fractions.Fraction``), so there is no binary floating point anywhere and no context precision
to run out of: a value is rounded **once**, when it becomes a line, with ``ROUND_HALF_UP``
(halves away from zero) to the minor unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from fractions import Fraction
from math import floor

# ISO 4217 currencies whose minor unit is not 2 decimals (list 1, 2024 edition).
_MINOR_UNIT_EXCEPTIONS: dict[str, int] = {
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
    "CLF": 4,
    "UYW": 4,
}


class MoneyError(ValueError):
    """An amount that cannot be money in this currency (too many decimals, not a number...)."""


def minor_unit(currency: str) -> int:
    """Number of decimals of ``currency`` (2 unless ISO 4217 says otherwise)."""
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise MoneyError(f"{currency!r} is not an ISO 4217 currency code")
    return _MINOR_UNIT_EXCEPTIONS.get(currency, 2)


def quantum(currency: str) -> Decimal:
    """The smallest amount of ``currency``: ``Decimal('0.01')`` for CAD."""
    return Decimal(1).scaleb(-minor_unit(currency))


def zero(currency: str) -> Decimal:
    return Decimal(0).quantize(quantum(currency))


def round_money(value: Fraction | Decimal | int, currency: str) -> Decimal:
    """Round an exact value to the minor unit of ``currency``, halves away from zero.

    ``Decimal.quantize(..., ROUND_HALF_UP)`` would do the same for a Decimal, but our inputs are
    often rationals such as ``price * seconds / 3600`` that have no finite decimal form; rounding
    the exact rational avoids any dependence on a decimal context's precision.
    """
    exponent = minor_unit(currency)
    scaled = Fraction(value) * (10**exponent)
    magnitude = floor(abs(scaled) + Fraction(1, 2))
    units = -magnitude if scaled < 0 else magnitude
    return (Decimal(units).scaleb(-exponent)).quantize(quantum(currency))


def to_minor_units(amount: Decimal, currency: str) -> int:
    """``Decimal('12.34')`` CAD -> ``1234``; refuses amounts that are not whole minor units."""
    check_amount(amount, currency)
    return int(amount.scaleb(minor_unit(currency)))


def from_minor_units(units: int, currency: str) -> Decimal:
    return (Decimal(units).scaleb(-minor_unit(currency))).quantize(quantum(currency))


def check_amount(amount: Decimal, currency: str) -> Decimal:
    """``amount`` unchanged if it is a finite Decimal with no more decimals than the currency."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise MoneyError(f"{amount!r} is not a finite Decimal amount")
    if amount != amount.quantize(quantum(currency)):
        raise MoneyError(f"{amount} has more decimals than {currency} allows")
    return amount


def parse_decimal(value: object, *, field: str, max_decimals: int | None = None) -> Decimal:
    """A Decimal from a JSON value.  Floats are refused: they are not exact."""
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError(f'{field}: give amounts as strings such as "0.35", not {value!r}')
    try:
        result = Decimal(str(value)) if isinstance(value, int | str) else value
    except ArithmeticError as error:
        raise MoneyError(f"{field}: {value!r} is not a number") from error
    if not isinstance(result, Decimal) or not result.is_finite():
        raise MoneyError(f"{field}: {value!r} is not a number")
    if max_decimals is not None and result != result.quantize(Decimal(1).scaleb(-max_decimals)):
        raise MoneyError(f"{field}: at most {max_decimals} decimals")
    return result


def allocate(total: Decimal, weights: Sequence[Decimal | int], currency: str) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights`` so the parts add up to ``total`` exactly.

    Largest-remainder method on minor units; ties go to the earlier weight, so the split is
    deterministic.  Used for partial refunds spread over a charge's lines.
    """
    units = to_minor_units(total, currency)
    if not weights:
        raise MoneyError("nothing to allocate to")
    if units < 0 or any(w < 0 for w in weights):
        raise MoneyError("allocate splits a non-negative total over non-negative weights")
    weight_sum = sum(Fraction(w) for w in weights)
    if weight_sum == 0:
        raise MoneyError("cannot allocate over weights that sum to zero")
    exact = [Fraction(units) * Fraction(w) / weight_sum for w in weights]
    parts = [floor(x) for x in exact]
    left = units - sum(parts)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - parts[i]), i))
    for index in order[:left]:
        parts[index] += 1
    return [from_minor_units(p, currency) for p in parts]


def money_sum(amounts: Iterable[Decimal], currency: str) -> Decimal:
    return sum(amounts, zero(currency)).quantize(quantum(currency))
