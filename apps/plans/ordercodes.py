"""Order codes of cloud plans: a pure parser, no I/O.

The rules (issue 19, the ordering rows of the datasheet):

- ``CPCLD-COMMERCIAL-n``: Commercial Level 2, ``n`` years;
- ``CPCLD-COMMERCIAL-DC-n``: Commercial DC, ``n`` years;
- ``CPCLD-COMMERCIAL-EXPP-n``: Commercial Express Plus, ``n`` years;
- ``n`` is 1 to 5;
- the obsolete codes ``CTSW-SAS-COMM-n`` and ``CTSW-SAS-COMM-DC-n`` are still accepted and
  mean ``CPCLD-COMMERCIAL-n`` and ``CPCLD-COMMERCIAL-DC-n``.

Codes are read case-insensitively with surrounding spaces ignored; anything else is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .choices import PlanTier

YEARS = range(1, 6)

CURRENT_PREFIXES: dict[str, str] = {
    "CPCLD-COMMERCIAL": PlanTier.COMMERCIAL,
    "CPCLD-COMMERCIAL-DC": PlanTier.DC,
    "CPCLD-COMMERCIAL-EXPP": PlanTier.EXPRESS_PLUS,
}
OBSOLETE_PREFIXES: dict[str, str] = {
    "CTSW-SAS-COMM": "CPCLD-COMMERCIAL",
    "CTSW-SAS-COMM-DC": "CPCLD-COMMERCIAL-DC",
}
PREFIX_OF_TIER = {tier: prefix for prefix, tier in CURRENT_PREFIXES.items()}

_CODE = re.compile(r"^(?P<prefix>[A-Z-]+?)-(?P<years>\d+)$")


class OrderCodeError(ValueError):
    pass


@dataclass(frozen=True)
class OrderCode:
    code: str  # the current code
    tier: str
    years: int
    written: str  # as ordered (an obsolete code stays visible)

    @property
    def obsolete(self) -> bool:
        return self.code != self.written


def order_code_for(tier: str, years: int) -> str:
    if years not in YEARS:
        raise OrderCodeError(f"A plan lasts 1 to 5 years, not {years}")
    return f"{PREFIX_OF_TIER[tier]}-{years}"


def parse_order_code(text: str) -> OrderCode:
    written = (text or "").strip().upper()
    match = _CODE.match(written)
    if match is None:
        raise OrderCodeError(f"Unknown order code {text!r}")
    prefix, years = match["prefix"], int(match["years"])
    current = OBSOLETE_PREFIXES.get(prefix, prefix)
    tier = CURRENT_PREFIXES.get(current)
    if tier is None:
        raise OrderCodeError(f"Unknown order code {text!r}")
    if years not in YEARS:
        raise OrderCodeError(f"{text!r}: a plan lasts 1 to 5 years")
    return OrderCode(code=f"{current}-{years}", tier=tier, years=years, written=written)
