"""Small electrical rules: units, wiring to grid lines, power selection.  Pure functions."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from .choices import LINE_INDEXES, Wiring

TENTH = Decimal("0.1")
LINE_OF_LETTER = {"R": 0, "S": 1, "T": 2}


def to_da(amps: Decimal | int | None) -> int | None:
    """Amps to whole deciamps, rounded down (a limit is never rounded up)."""
    if amps is None:
        return None
    return int((Decimal(amps) * 10).to_integral_value(rounding=ROUND_DOWN))


def amps_per_line_of_watts(watts: Decimal | int, voltage_v: int, lines: int) -> Decimal:
    """The current per line of a balanced load of ``watts`` on ``lines`` lines."""
    if lines <= 0:
        return Decimal(0)
    return Decimal(watts) / (Decimal(voltage_v) * lines)


def legs(wiring: str, rotation: str) -> tuple[tuple[int, ...], ...]:
    """The grid lines each of an EVSE's phases loads, in the EVSE's own phase order.

    ``rotation`` is OCPP's ConnectorPhaseRotation (R = L1, S = L2, T = L3): the grid line the
    EVSE's first, second and third phase are wired to."""
    lines = [LINE_OF_LETTER[letter] for letter in rotation]
    if wiring == Wiring.THREE_PHASE:
        return tuple((line,) for line in lines)
    if wiring == Wiring.SINGLE_PHASE:
        return ((lines[0],),)
    if wiring == Wiring.LINE_TO_LINE:
        return ((lines[0], lines[1]),)
    raise ValueError(f"Unknown wiring {wiring!r}")


def node_limits_da(
    lines: str, limit_a: Decimal | None
) -> tuple[int | None, int | None, int | None]:
    """A node's limit per grid line: its rating on its own conductors, 0 on lines it lacks."""
    own = LINE_INDEXES[lines]
    value = to_da(limit_a)
    return tuple(value if line in own else 0 for line in range(3))  # type: ignore[return-value]


def power_selection_a(
    *,
    breaker_rating_a: Decimal | None,
    continuous_factor: Decimal,
    hardware_max_a: Decimal,
    circuit_limit_a: Decimal | None = None,
) -> Decimal:
    """The station maximum for a station on a smaller circuit.

    EV charging is a continuous load: electrical codes (NEC 625.41 / 210.20, CEC 8-104) let it
    draw at most 80 % of the breaker's rating.  The result never exceeds the station's
    hardware nor the circuit's own limit, and is rounded down to 0.1 A (what OCPP accepts)."""
    allowed = [Decimal(hardware_max_a)]
    if breaker_rating_a is not None:
        allowed.append(Decimal(breaker_rating_a) * Decimal(continuous_factor))
    if circuit_limit_a is not None:
        allowed.append(Decimal(circuit_limit_a))
    return max(Decimal(0), min(allowed)).quantize(TENTH, rounding=ROUND_DOWN)
