"""The registry of permission codes that roles and API keys grant.

A permission is a string ``"<area>.<action>"``.  Apps register theirs in ``AppConfig.ready`` so
that roles stay data (rows with a list of codes) while typos in code are caught at start-up.
A role may also grant ``"*"`` (everything) or ``"<area>.*"`` (every action of an area).
"""

from __future__ import annotations

PERMISSIONS: dict[str, str] = {}


def register(code: str, description: str) -> None:
    area, _, action = code.partition(".")
    if not area or not action or action == "*":
        raise ValueError(f"Permission codes look like 'area.action', not {code!r}")
    PERMISSIONS[code] = description


def is_known(code: str) -> bool:
    if code == "*":
        return True
    if code.endswith(".*"):
        area = code[:-2]
        return any(known.startswith(area + ".") for known in PERMISSIONS)
    return code in PERMISSIONS


def grants(granted: list[str] | tuple[str, ...], code: str) -> bool:
    """Whether a list of granted codes covers ``code``."""
    if code not in PERMISSIONS:
        raise KeyError(f"Unknown permission {code!r}: register it first")
    area = code.split(".", 1)[0]
    return "*" in granted or code in granted or f"{area}.*" in granted
