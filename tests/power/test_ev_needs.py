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
