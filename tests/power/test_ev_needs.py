"""Power management and the vehicle's needs (OCPP 2.0.1 K15-K17) on a real database: the
renegotiated TxProfile (K15.FR.13, K17.FR.13) and the vehicle's maxScheduleTuples."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from apps.power import profiles, services
from apps.power.choices import ScheduleMode
from apps.power.models import EvseAllocation, SessionPower

from .conftest import start_session
from .test_services import MONTREAL, NOW

AC_ONLY = {"requested_energy_transfer": "AC_three_phase"}


def above(limit_a: float) -> dict:
    """An EV's chosen schedule (NotifyEVChargingSchedule) at ``limit_a`` amps."""
    return {
        "charging_rate_unit": "A",
        "charging_schedule_period": [{"start_period": 0, "limit": limit_a}],
    }


def tx_limits(call) -> list[float]:
    schedule = call.payload["chargingProfile"]["chargingSchedule"][0]
    return [period["limit"] for period in schedule["chargingSchedulePeriod"]]


def test_a_rejected_schedule_is_sent_again_even_while_a_rebalance_is_pushing(garage, fleet):
    """The race of the merged build: the EV's schedule arrives while the rebalance that sent
    the first profile is still waiting for the station's answer.  That rebalance then records
    the profile as acknowledged; the renegotiation must still send it again."""
    session = start_session(garage.stations["D"], at=NOW - dt.timedelta(minutes=5))
    services.session_power_start(session_id=session.pk, now=NOW - dt.timedelta(minutes=5))
    first = services.session_ev_needs(session_id=session.pk, needs=AC_ONLY, now=NOW)
    verdicts = []

    def station(station, action, payload):
        answer = fleet(station, action, payload)
        if action == "SetChargingProfile" and not verdicts:  # the EV answers meanwhile
            verdicts.append(
                services.session_ev_schedule_check(session_id=session.pk, schedule=above(63))
            )
        return answer

    services.session_profile_renegotiate(renegotiation=first, now=NOW, send=station)
    [verdict] = verdicts
    assert verdict.within is False
    given_a = EvseAllocation.objects.get(evse=garage.evse("D")).limit_a
    assert [tx_limits(call) for call in fleet.actions()] == [[float(given_a)]]

    fleet.calls.clear()
    later = NOW + dt.timedelta(seconds=5)
    services.session_profile_renegotiate(renegotiation=verdict.renegotiation, now=later, send=fleet)
    [again] = fleet.actions()
    profile = again.payload["chargingProfile"]
    assert again.identity == "GARAGE-D" and again.payload["evseId"] == 1
    assert profile["chargingProfilePurpose"] == "TxProfile"
    assert profile["transactionId"] == session.transaction_id
    assert tx_limits(again) == [float(given_a)] and given_a <= Decimal("32")
    # within the profile now: Accepted, and nothing else is sent
    verdict = services.session_ev_schedule_check(
        session_id=session.pk, schedule=above(float(given_a))
    )
    assert verdict.within is True
    fleet.calls.clear()
    services.site_rebalance(site_id=garage.site.pk, now=later, send=fleet)
    assert fleet.actions() == []


def test_new_needs_send_the_profile_again_even_if_the_limit_did_not_move(garage, fleet):
    """K17: the EV renegotiates with new needs; it waits for a SetChargingProfile."""
    session = start_session(garage.stations["E"], at=NOW - dt.timedelta(minutes=5))
    services.session_power_start(session_id=session.pk, now=NOW - dt.timedelta(minutes=5))
    for attempt in range(2):
        fleet.calls.clear()
        renegotiation = services.session_ev_needs(session_id=session.pk, needs=AC_ONLY, now=NOW)
        services.session_profile_renegotiate(renegotiation=renegotiation, now=NOW, send=fleet)
        assert [call.identity for call in fleet.actions()] == ["GARAGE-E"], attempt
    fleet.calls.clear()
    services.site_rebalance(site_id=garage.site.pk, now=NOW, send=fleet)  # no cause: nothing
    assert fleet.actions() == []


def test_max_schedule_tuples_merges_the_profile_downwards(garage, fleet):
    """A scheduled session's profile has two periods (0 A, then its minimum from 22:00); a
    vehicle that takes one period per schedule gets one, at the lower limit."""
    services.charging_rule_create(
        site=garage.site,
        name="Off-peak",
        mode=ScheduleMode.START_AT,
        start_time=dt.time(22, 0),
        departure_time=dt.time(6, 0),
    )
    at = NOW - dt.timedelta(hours=1)
    session = start_session(garage.stations["D"], at=at)
    services.session_power_start(session_id=session.pk, now=at)
    before = dt.datetime(2026, 3, 2, 21, 59, tzinfo=MONTREAL)
    services.site_rebalance(site_id=garage.site.pk, now=before, send=fleet)
    assert tx_limits(fleet.actions()[-1]) == [0.0, 6.0]

    renegotiation = services.session_ev_needs(
        session_id=session.pk, needs=AC_ONLY, max_schedule_tuples=1, now=before
    )
    power = SessionPower.objects.get(session=session)
    assert power.max_schedule_periods == 1
    assert power.departure_at == dt.datetime(2026, 3, 3, 6, 0, tzinfo=MONTREAL)  # kept
    services.session_profile_renegotiate(renegotiation=renegotiation, now=before, send=fleet)
    assert tx_limits(fleet.actions()[-1]) == [0.0]
    # the EV may not take the 6 A of 22:00 that the merged profile no longer offers
    verdict = services.session_ev_schedule_check(session_id=session.pk, schedule=above(6))
    assert verdict.within is False


periods_strategy = st.lists(
    st.tuples(st.integers(1, 3600), st.integers(0, 630)), min_size=1, max_size=12
).map(
    lambda steps: [
        profiles.Period(sum(gap for gap, _ in steps[:index]) if index else 0, limit)
        for index, (_, limit) in enumerate(steps)
    ]
)


def limit_at(periods: list[profiles.Period], second: int) -> int:
    return [period.limit_da for period in periods if period.start_s <= second][-1]


@given(periods_strategy, st.one_of(st.none(), st.integers(0, 12)))
def test_fitted_periods_are_few_enough_and_never_above_the_original(periods, most):
    fitted = profiles.fit_periods(periods, most)
    if most is None or len(periods) <= max(most, 1):
        assert fitted == periods
    else:
        assert len(fitted) == max(most, 1)
    assert fitted[0].start_s == 0
    for second in {period.start_s for period in periods} | {p.start_s + 1 for p in periods}:
        assert limit_at(fitted, second) <= limit_at(periods, second)


def test_an_iso_15118_car_is_told_the_sites_time_of_use_prices(garage, fleet):
    """K15 (optional for the CSMS): the TxProfile of a car that told its needs carries an ISO
    15118-2 sales tariff from the site's energy rates, until its departure, in no more entries
    than its maxScheduleTuples; a car that did not (no ISO 15118) gets none."""
    for start, end, price in (("07:00", "22:00", "0.20"), ("22:00", "07:00", "0.08")):
        services.energy_rate_create(
            site=garage.site,
            start_time=dt.time.fromisoformat(start),
            end_time=dt.time.fromisoformat(end),
            price_per_kwh=Decimal(price),
        )
    plain = start_session(garage.stations["E"], at=NOW - dt.timedelta(minutes=5))
    services.session_power_start(session_id=plain.pk, now=NOW - dt.timedelta(minutes=5))
    services.site_rebalance(site_id=garage.site.pk, now=NOW, send=fleet)
    [profile] = [c.payload["chargingProfile"] for c in fleet.actions()]
    assert "salesTariff" not in profile["chargingSchedule"][0]

    # 18:00 in Montreal; the car leaves at 08:00: dear until 22:00, cheap until 07:00, dear
    session = start_session(garage.stations["D"], at=NOW - dt.timedelta(minutes=5))
    services.session_power_start(session_id=session.pk, now=NOW - dt.timedelta(minutes=5))
    leaves = dt.datetime(2026, 3, 3, 8, 0, tzinfo=MONTREAL)
    needs = {**AC_ONLY, "departure_time": leaves.isoformat()}
    fleet.calls.clear()
    renegotiation = services.session_ev_needs(
        session_id=session.pk, needs=needs, max_schedule_tuples=3, now=NOW
    )
    services.session_profile_renegotiate(renegotiation=renegotiation, now=NOW, send=fleet)
    # E's share may change too (D joined); its car told nothing: no tariff for it
    assert all(
        "salesTariff" not in c.payload["chargingProfile"]["chargingSchedule"][0]
        for c in fleet.actions()
        if c.identity == "GARAGE-E"
    )
    [call] = [c for c in fleet.actions() if c.identity == "GARAGE-D"]  # schema-checked
    schedule = call.payload["chargingProfile"]["chargingSchedule"][0]
    tariff = schedule["salesTariff"]
    assert tariff["numEPriceLevels"] == 2
    start = dt.datetime.fromisoformat(schedule["startSchedule"].replace("Z", "+00:00"))
    entries = [
        (
            (start + dt.timedelta(seconds=e["relativeTimeInterval"]["start"])).astimezone(MONTREAL),
            e["relativeTimeInterval"]["duration"],
            e["ePriceLevel"],
        )
        for e in tariff["salesTariffEntry"]
    ]
    assert [level for _at, _d, level in entries] == [2, 1, 2]
    assert entries[1][0] == dt.datetime(2026, 3, 2, 22, 0, tzinfo=MONTREAL)
    assert entries[2][0] == dt.datetime(2026, 3, 3, 7, 0, tzinfo=MONTREAL)
    end = entries[2][0] + dt.timedelta(seconds=entries[2][1])
    assert end == leaves

    # a car that takes two entries: the cheap night merges into the dear hours around it
    fleet.calls.clear()
    renegotiation = services.session_ev_needs(
        session_id=session.pk, needs=needs, max_schedule_tuples=2, now=NOW
    )
    services.session_profile_renegotiate(renegotiation=renegotiation, now=NOW, send=fleet)
    [call] = [c for c in fleet.actions() if c.identity == "GARAGE-D"]
    levels = [
        e["ePriceLevel"]
        for e in call.payload["chargingProfile"]["chargingSchedule"][0]["salesTariff"][
            "salesTariffEntry"
        ]
    ]
    assert len(levels) <= 2 and max(levels) == 2 and levels[-1] == 2


@given(
    st.lists(st.one_of(st.none(), st.sampled_from(["0.08", "0.12", "0.20"])), min_size=1),
    st.one_of(st.none(), st.integers(0, 6)),
)
def test_a_merged_tariff_never_shows_a_time_cheaper_than_it_is(prices, most):
    from apps.power import ev_needs

    prices = [Decimal(p) if p is not None else None for p in prices]
    steps = [(index * 900, price) for index, price in enumerate(prices)]
    tariff = ev_needs.sales_tariff(steps, end_s=900 * len(prices), max_entries=most)
    if all(p is None for p in prices):
        assert tariff is None
        return
    levels = ev_needs.price_levels(prices)
    entries = tariff["salesTariffEntry"]
    if most is not None:
        assert len(entries) <= max(most, 1)
    assert entries[0]["relativeTimeInterval"]["start"] == 0
    assert sum(e["relativeTimeInterval"]["duration"] for e in entries) == 900 * len(prices)
    for index, level in enumerate(levels):
        second = index * 900
        shown = [e["ePriceLevel"] for e in entries if e["relativeTimeInterval"]["start"] <= second][
            -1
        ]
        assert shown >= level
