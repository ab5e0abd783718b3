"""Vehicle identification numbers (ISO 3779).

A VIN is 17 characters, digits and capital letters without I, O and Q.  Its 9th character is a
check digit (49 CFR 565) that North American VINs always carry (world manufacturer ids starting
1 to 5): it is checked for those.  Elsewhere the 9th character is often a plain character, so
only the format is checked.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

VIN_FORMAT = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
# Letters transliterated to numbers (49 CFR 565.15, table I), and the weight of each position.
_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
CHECKED_REGIONS = "12345"  # North America


def check_digit(vin: str) -> str:
    total = sum(_VALUES[char] * weight for char, weight in zip(vin, _WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def validate_vin(value: str) -> None:
    vin = (value or "").upper()
    if not VIN_FORMAT.match(vin):
        raise ValidationError(
            _("A VIN is 17 letters and digits, without I, O or Q."), code="vin_format"
        )
    if vin[0] in CHECKED_REGIONS and vin[8] != check_digit(vin):
        raise ValidationError(
            _("The VIN's check digit (9th character) should be %(digit)s.")
            % {"digit": check_digit(vin)},
            code="vin_check",
        )
