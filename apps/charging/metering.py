"""Meter samples normalised to base units: Wh, varh, W, var, VA, A, V, Celsius, Percent, Hz.

Rules:
- A value is a decimal number (1.6 sends it as a string, 2.0.1 as a JSON number), scaled by
  10^multiplier (2.0.1) and to the base unit (kWh → Wh, °F/K → °C ...), kept to 4 decimals.
- A value that is not a finite number raises ``SampleError`` (callers skip it, never guess).
- A number no meter can produce raises ``SampleRangeError``: after normalising, its magnitude
  must stay below 10^16 (a meter value is stored as numeric(20, 4)), and a power below
  2^31 W (a session's power is a 32-bit integer; no charger comes near 2 GW).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

ENERGY_REGISTER = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
CURRENT = "Current.Import"

_SCALE = {
    "kWh": ("Wh", 1000),
    "kvarh": ("varh", 1000),
    "kW": ("W", 1000),
    "kvar": ("var", 1000),
    "kVA": ("VA", 1000),
}
_DEFAULT_UNIT = (
    ("Energy.Reactive", "varh"),
    ("Energy", "Wh"),
    ("Power.Reactive", "var"),
    ("Power", "W"),
    ("Current", "A"),
    ("Voltage", "V"),
    ("SoC", "Percent"),
    ("Temperature", "Celsius"),
    ("Frequency", "Hz"),
    ("RPM", "RPM"),
)


@dataclass(frozen=True)
class Sample:
    timestamp: dt.datetime
    measurand: str
    value: Decimal
    unit: str
    phase: str = ""
    location: str = ""
    context: str = ""


MAX_MAGNITUDE = Decimal(10) ** 16  # exclusive: numeric(20, 4) holds 16 integer digits
MAX_POWER_W = Decimal(2**31 - 1)


class SampleError(ValueError):
    pass


class SampleRangeError(SampleError):
    """A number, but outside what any meter reports (and what the database holds)."""


def default_unit(measurand: str) -> str:
    for prefix, unit in _DEFAULT_UNIT:
        if measurand.startswith(prefix):
            return unit
    return ""


def normalise(
    *, measurand: str, raw_value, unit: str | None, multiplier: int = 0
) -> tuple[Decimal, str]:
    """The value in base units.  Raises SampleError for values that are not numbers and
    SampleRangeError for numbers out of range (see the module's rules)."""
    if isinstance(raw_value, bool):
        raise SampleError(f"{measurand}: {raw_value!r} is not a number")
    try:
        value = Decimal(str(raw_value))
    except (InvalidOperation, ValueError) as error:
        raise SampleError(f"{measurand}: {raw_value!r} is not a number") from error
    if not value.is_finite():
        raise SampleError(f"{measurand}: {raw_value!r} is not a finite number")
    unit = unit or default_unit(measurand)
    try:
        if multiplier:
            value = value.scaleb(multiplier)
        if unit in _SCALE:
            unit, factor = _SCALE[unit]
            value *= factor
        elif unit == "Fahrenheit":
            unit, value = "Celsius", (value - 32) * 5 / 9
        elif unit == "K":
            unit, value = "Celsius", value - Decimal("273.15")
    except ArithmeticError as error:  # decimal Overflow: an exponent beyond any meter
        raise SampleRangeError(f"{measurand}: {raw_value!r} is out of range") from error
    limit = MAX_POWER_W if unit == "W" else MAX_MAGNITUDE
    if not value.copy_abs() < limit:  # copy_abs: exact, no context rounding to overflow
        raise SampleRangeError(f"{measurand}: {raw_value!r} {unit} is out of range")
    return value.quantize(Decimal("0.0001")), unit
