"""Meter samples normalised to base units: Wh, varh, W, var, VA, A, V, Celsius, Percent, Hz."""

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


class SampleError(ValueError):
    pass


def default_unit(measurand: str) -> str:
    for prefix, unit in _DEFAULT_UNIT:
        if measurand.startswith(prefix):
            return unit
    return ""


def normalise(
    *, measurand: str, raw_value, unit: str | None, multiplier: int = 0
) -> tuple[Decimal, str]:
    """The value in base units.  Raises SampleError for values that are not numbers."""
    try:
        value = Decimal(str(raw_value))
    except (InvalidOperation, ValueError) as error:
        raise SampleError(f"{measurand}: {raw_value!r} is not a number") from error
    if not value.is_finite():
        raise SampleError(f"{measurand}: {raw_value!r} is not a finite number")
    if multiplier:
        value = value.scaleb(multiplier)
    unit = unit or default_unit(measurand)
    if unit in _SCALE:
        unit, factor = _SCALE[unit]
        value *= factor
    elif unit == "Fahrenheit":
        unit, value = "Celsius", (value - 32) * 5 / 9
    elif unit == "K":
        unit, value = "Celsius", value - Decimal("273.15")
    return value.quantize(Decimal("0.0001")), unit
