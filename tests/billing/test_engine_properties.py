"""Properties of the cost engine over generated tariffs and sessions (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.billing.engine import (
    DAY_NAMES,
    LINE_MAXIMUM,
    LINE_TIME,
    MeterInterval,
    SessionTimeline,
    Tariff,
    TaxPolicy,
    TaxRate,
    compute_cost,
    inputs_digest,
)
from apps.billing.money import quantum

ZONES = [
    "America/Montreal",
    "Europe/Paris",
    "UTC",
    "Australia/Sydney",
    "Asia/Kolkata",  # half-hour offset
    "Pacific/Chatham",  # 45-minute offset and DST
]
# Days around DST changes in the zones above, and ordinary days.
DAYS = [
    datetime(2026, 3, 8, tzinfo=UTC),
    datetime(2026, 3, 29, tzinfo=UTC),
    datetime(2026, 4, 5, tzinfo=UTC),
    datetime(2026, 9, 27, tzinfo=UTC),
    datetime(2026, 10, 4, tzinfo=UTC),
    datetime(2026, 10, 25, tzinfo=UTC),
    datetime(2026, 11, 1, tzinfo=UTC),
    datetime(2026, 6, 15, tzinfo=UTC),
]


def decimals(max_value: int, places: int) -> st.SearchStrategy[str]:
    return st.integers(0, max_value * 10**places).map(lambda n: str(Decimal(n).scaleb(-places)))


clock = st.integers(0, 95).map(lambda q: f"{q // 4:02d}:{q % 4 * 15:02d}")


@st.composite
def windows(draw) -> list[dict]:
    result = []
    for _ in range(draw(st.integers(0, 2))):
        start = draw(clock)
        end = draw(clock | st.just("24:00"))
        if end == start:
            end = "24:00" if start != "00:00" else "12:00"
        days = draw(st.lists(st.sampled_from(DAY_NAMES), min_size=1, max_size=7, unique=True))
        result.append({"days": days, "start": start, "end": end})
    return result


@st.composite
def when(draw) -> dict:
    data: dict = {}
    if draw(st.booleans()):
        data["windows"] = draw(windows())
    start = draw(st.sampled_from([0, 0, 15, 30, 60, 120]))
    if start:
        data["from_minutes"] = start
    if draw(st.booleans()):
        data["to_minutes"] = start + draw(st.sampled_from([15, 45, 60, 180]))
    return data


@st.composite
def rates(draw, price_key: str) -> list[dict]:
    result = [
        {price_key: draw(decimals(20, 4)), **draw(when())} for _ in range(draw(st.integers(0, 3)))
    ]
    # Restricted rates only, then maybe a default (a default first would shadow the rest).
    result = [r for r in result if r.get("windows") or r.get("from_minutes") or "to_minutes" in r]
    if draw(st.booleans()):
        result.append({price_key: draw(decimals(20, 4))})
    return result


@st.composite
def tariffs(draw) -> Tariff:
    currency = draw(st.sampled_from(["CAD", "CAD", "EUR", "JPY", "KWD"]))
    places = {"JPY": 0, "KWD": 3}.get(currency, 2)
    data: dict = {"currency": currency}
    if draw(st.booleans()):
        data["session_fee"] = draw(decimals(5, places))
    data["energy"] = draw(rates("price_per_kwh"))
    data["time"] = draw(rates("price_per_hour"))
    data["time_basis"] = draw(st.sampled_from(["connected", "charging"]))
    data["time_step_seconds"] = draw(st.sampled_from([1, 60, 300, 900, 3600]))
    if draw(st.booleans()):
        idle = {
            "price_per_hour": draw(decimals(30, 2)),
            "grace_minutes": draw(st.sampled_from([0, 10, 15, 60])),
            "step_seconds": draw(st.sampled_from([1, 60, 900])),
        }
        if draw(st.booleans()):
            idle["windows"] = draw(windows())
        if draw(st.booleans()):
            idle["max_amount"] = draw(decimals(40, places))
        data["idle"] = idle
    low = draw(st.none() | decimals(10, places))
    high = draw(st.none() | decimals(60, places))
    if low is not None and high is not None and Decimal(low) > Decimal(high):
        low, high = high, low
    if low is not None:
        data["min_price"] = low
    if high is not None:
        data["max_price"] = high
    return Tariff.from_dict(data)


@st.composite
def timelines(draw) -> SessionTimeline:
    day = draw(st.sampled_from(DAYS))
    start = day + timedelta(seconds=draw(st.integers(-12 * 3600, 30 * 3600)))
    duration = draw(st.integers(0, 40 * 3600))
    end = start + timedelta(seconds=duration)
    charging = start + timedelta(seconds=draw(st.integers(0, duration)))
    intervals = []
    cursor = start
    while cursor < charging:
        step = timedelta(seconds=draw(st.integers(1, 3600)))
        following = min(cursor + step, charging)
        intervals.append(MeterInterval(cursor, following, draw(st.integers(0, 25_000))))
        cursor = following
        if len(intervals) > 60:
            break
    recorded_end = draw(st.booleans())
    return SessionTimeline(
        started_at=start,
        ended_at=end,
        timezone=draw(st.sampled_from(ZONES)),
        intervals=tuple(intervals),
        charging_ended_at=charging if recorded_end else None,
    )


taxes = st.sampled_from(
    [
        TaxPolicy(),
        TaxPolicy(
            (TaxRate("GST", "GST", Decimal("0.05")), TaxRate("QST", "QST", Decimal("0.09975")))
        ),
        TaxPolicy(
            (TaxRate("GST", "GST", Decimal("0.05")), TaxRate("PST", "PST", Decimal("0.095"), True))
        ),
        TaxPolicy((TaxRate("VAT", "VAT", Decimal("0.21")),), prices_include_tax=True),
    ]
)

PROPERTY_SETTINGS = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(tariff=tariffs(), timeline=timelines(), policy=taxes)
def test_cost_is_never_negative_never_above_the_cap_and_adds_up(tariff, timeline, policy):
    result = compute_cost(tariff, timeline, policy)
    unit = quantum(tariff.currency)

    assert result.total >= 0 and result.subtotal >= 0 and result.tax_total >= 0
    for line in result.lines:
        assert line.amount == line.amount.quantize(unit)
        assert line.amount >= 0 or line.kind == LINE_MAXIMUM
    if tariff.max_price is not None:
        assert result.subtotal <= tariff.max_price
    if tariff.min_price is not None and result.energy_wh > 0:
        assert result.subtotal >= tariff.min_price

    assert sum((line.amount for line in result.lines), Decimal(0)) == result.subtotal
    assert sum((t.amount for t in result.taxes), Decimal(0)) == result.tax_total
    if policy.prices_include_tax:
        assert result.total == result.subtotal
        assert result.total_excl_tax == result.subtotal - result.tax_total
    else:
        assert result.total == result.subtotal + result.tax_total

    # Energy is conserved through the split into periods.
    assert sum(p.energy_wh for p in result.periods) == timeline.energy_wh
    # Billed time is the priced time rounded up to one step, never more.
    priced = sum(p.seconds for p in result.periods if p.time_rate is not None)
    billed = sum(line.quantity for line in result.lines if line.kind == LINE_TIME)
    if billed:
        assert 0 <= billed - priced < tariff.time_step_seconds


@PROPERTY_SETTINGS
@given(tariff=tariffs(), timeline=timelines(), policy=taxes)
def test_the_same_session_always_gives_the_same_receipt(tariff, timeline, policy):
    first = compute_cost(tariff, timeline, policy)
    again = compute_cost(Tariff.from_dict(tariff.to_dict()), timeline, policy)
    assert first == again
    assert inputs_digest(tariff, timeline, policy) == inputs_digest(
        Tariff.from_dict(tariff.to_dict()), timeline, policy
    )


@settings(max_examples=200, deadline=None)
@given(timeline=timelines())
def test_periods_tile_the_session_exactly(timeline):
    result = compute_cost(Tariff.from_dict({"currency": "CAD", "session_fee": "1.00"}), timeline)
    assert result.periods[0].start == timeline.started_at.astimezone(UTC).replace(microsecond=0)
    for before, after in zip(result.periods, result.periods[1:], strict=False):
        assert before.end == after.start
    assert sum(p.seconds for p in result.periods) == result.connected_seconds


@settings(max_examples=150, deadline=None)
@given(
    time_rates=rates("price_per_hour"),
    day=st.sampled_from(DAYS),
    start_minute=st.integers(-12 * 60, 30 * 60),
    minutes=st.integers(1, 30 * 60),
    zone=st.sampled_from(ZONES),
)
def test_time_of_use_matches_a_minute_by_minute_oracle(
    time_rates, day, start_minute, minutes, zone
):
    """Count, minute by minute with zoneinfo's own conversion, which rate applies; the engine's
    cut-at-the-edges computation (DST included) must find exactly the same seconds."""
    from zoneinfo import ZoneInfo

    tariff = Tariff.from_dict({"currency": "CAD", "time": time_rates, "time_step_seconds": 1})
    start = day + timedelta(minutes=start_minute)
    timeline = SessionTimeline(start, start + timedelta(minutes=minutes), zone)
    expected: dict[int, int] = {}
    for minute in range(minutes):
        instant = start + timedelta(minutes=minute)
        local = instant.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        for index, rate in enumerate(tariff.time):
            if rate.when.matches(local, minute * 60):
                expected[index] = expected.get(index, 0) + 60
                break
    result = compute_cost(tariff, timeline)
    found = {line.rate_index: line.quantity for line in result.lines if line.kind == LINE_TIME}
    assert found == expected
