"""The power services on a real database: the garage of docs/power.md, profiles pushed to test
stations (checked against the OCPP schemas), failures, power selection, schedules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from apps.power import selectors, services
from apps.power.choices import AlertKind, LimitSource, PushState, ScheduleMode
from apps.power.models import EvseAllocation, NodeInterval, PowerAlert, SessionPower

from .conftest import start_session

MONTREAL = ZoneInfo("America/Montreal")
NOW = dt.datetime(2026, 3, 2, 18, 0, tzinfo=MONTREAL).astimezone(dt.UTC)


def limits(garage) -> dict[str, Decimal]:
    rows = EvseAllocation.objects.filter(evse__station__site=garage.site).select_related(
        "evse__station"
    )
    return {row.evse.station.identity[-1]: row.limit_a for row in rows}


def charging(garage) -> dict[str, Decimal]:
    """Limits of the EVSEs that have a session."""
    rows = EvseAllocation.objects.filter(
        evse__station__site=garage.site, session__isnull=False
    ).select_related("evse__station")
    return {row.evse.station.identity[-1]: row.limit_a for row in rows}


def start_all(garage, identities="ABCDE"):
    """Start sessions; B's vehicle is single-phase (its station measures current on L1 only)."""
    sessions = {}
    for offset, identity in enumerate(identities):
        at = NOW - dt.timedelta(hours=1) + dt.timedelta(minutes=offset)
        sessions[identity] = start_session(garage.stations[identity], at=at)
        services.session_power_start(session_id=sessions[identity].pk, now=at)
        if identity == "B":
            services.session_draw_record(
                session_id=sessions["B"].pk,
                current_a={"L1": 6.0, "L2": 0.0, "L3": 0.0},
                at=NOW - dt.timedelta(minutes=10),
            )
    return sessions


def test_rebalance_shares_the_garage_and_pushes_valid_profiles(garage, fleet):
    start_all(garage)
    outcome = services.site_rebalance(site_id=garage.site.pk, now=NOW, send=fleet)
    # 48 A per line for EVs on the supply: A, C, D, E share L2 (C is single-phase on L2 by
    # its STR rotation), A, B, D, E share L1: 12 A each; C1 (32 A) and C2 (40 A) have room.
    assert limits(garage) == {i: Decimal("12") for i in "ABCDE"}
    assert outcome.pushed == 5 and outcome.failed == 0
    pushes = fleet.actions()
    assert len(pushes) == 5
    by_station = {call.identity[-1]: call.payload for call in pushes}
    tx16 = by_station["A"]["csChargingProfiles"]
    assert tx16["chargingProfilePurpose"] == "TxProfile"
    assert tx16["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 12.0, "numberPhases": 3}
    ]
    assert isinstance(tx16["transactionId"], int)
    assert (
        by_station["C"]["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0][
            "numberPhases"
        ]
        == 1
    )
    tx201 = by_station["D"]["chargingProfile"]
    assert tx201["transactionId"] == garage.stations["D"].sessions.get().transaction_id
    assert tx201["chargingSchedule"][0]["chargingRateUnit"] == "A"

    # Nothing changed: nothing is sent again.
    fleet.calls.clear()
    assert services.site_rebalance(site_id=garage.site.pk, now=NOW, send=fleet).pushed == 0
    assert fleet.calls == []


def test_an_ended_session_raises_the_others_and_reductions_go_first(garage, fleet):
    sessions = start_all(garage, "ABCD")
    services.site_rebalance(site_id=garage.site.pk, now=NOW, send=fleet)
    assert limits(garage)["A"] == Decimal("16")  # A, B, D share L1's 48 A
    # E arrives: everyone comes down to 12 A, and E is raised last.
    start_all(garage, "E")
    fleet.calls.clear()
    later = NOW + dt.timedelta(minutes=2)
    services.site_rebalance(site_id=garage.site.pk, now=later, send=fleet)
    order = [call.identity[-1] for call in fleet.actions()]
    assert order[-1] == "E" and sorted(order[:-1]) == list("ABCD")

    from apps.charging.services import session_stop

    session_stop(
        station_id=garage.stations["B"].pk,
        transaction_id=sessions["B"].transaction_id,
        meter_stop_wh=1000,
        ended_at=later + dt.timedelta(minutes=1),
    )
    services.site_rebalance(site_id=garage.site.pk, now=later + dt.timedelta(minutes=5), send=fleet)
    assert limits(garage) == {
        "A": Decimal("12"),  # L2 (A, C, D, E) is still full at 12 A each
        "B": Decimal("0"),
        "C": Decimal("12"),
        "D": Decimal("12"),
        "E": Decimal("12"),
    }


def test_a_station_that_does_not_answer_is_retried_then_counted_at_its_maximum(garage, fleet):
    start_all(garage)
    fleet.fail.add("GARAGE-A")
    services.site_rebalance(site_id=garage.site.pk, now=NOW, send=fleet)
    row = EvseAllocation.objects.get(evse=garage.evse("A"))
    assert row.push_state == PushState.RETRYING and row.attempts == 1
    # Until it answers it counts at what it was last told: its default profile was never
    # installed here, so its maximum (32 A) -- the others share what is left.
    services.site_rebalance(site_id=garage.site.pk, now=NOW + dt.timedelta(seconds=30), send=fleet)
    services.site_rebalance(site_id=garage.site.pk, now=NOW + dt.timedelta(seconds=60), send=fleet)
    row.refresh_from_db()
    assert row.push_state == PushState.UNREACHABLE and row.attempts == 3
    alert = PowerAlert.objects.get(evse=garage.evse("A"), resolved_at__isnull=True)
    assert alert.kind == AlertKind.PUSH_FAILED
    assert limits(garage)["A"] == Decimal("32")
    assert row.reason == "unmanaged"
    # A's 32 A fill C1: B is paused.  On the supply's L2 A leaves 16 A: two 6 A minimums fit
    # (C and D, who came first) and share it; E waits.
    assert limits(garage) == {
        "A": Decimal("32"),
        "B": Decimal("0"),
        "C": Decimal("8"),
        "D": Decimal("8"),
        "E": Decimal("0"),
    }

    # It answers again (after the retry delay): alert resolved, back in the allocation.
    fleet.fail.clear()
    services.site_rebalance(site_id=garage.site.pk, now=NOW + dt.timedelta(minutes=7), send=fleet)
    row.refresh_from_db()
    assert row.push_state == PushState.SYNCED
    assert not PowerAlert.objects.filter(resolved_at__isnull=True).exists()


def test_an_offline_station_counts_at_its_maximum_without_being_called(garage, fleet):
    start_all(garage)
    station = garage.stations["E"]
    station.is_online = False
    station.save(update_fields=["is_online"])
    services.site_rebalance(site_id=garage.site.pk, now=NOW, send=fleet)
    assert "GARAGE-E" not in {call.identity for call in fleet.calls}
    assert limits(garage)["E"] == Decimal("32")


def test_power_selection_installs_a_station_maximum_and_a_safe_default(garage, fleet):
    station = garage.stations["D"]
    power = services.station_power_set(
        station=station, node=garage.c2, breaker_rating_a=Decimal("20")
    )
    assert power.selected_max_a == Decimal("16.0")  # 80 % of a 20 A breaker
    fleet.configuration["GARAGE-D"] = {
        "getVariableResult": [
            {
                "attributeStatus": "Accepted",
                "component": {"name": "SmartChargingCtrlr"},
                "variable": {"name": "ProfileStackLevel"},
                "attributeValue": "8",
            },
            {
                "attributeStatus": "Accepted",
                "component": {"name": "SmartChargingCtrlr"},
                "variable": {"name": "RateUnit"},
                "attributeValue": "A,W",
            },
        ]
    }
    assert services.station_power_connect(station_id=station.pk, now=NOW, send=fleet)
    power.refresh_from_db()
    assert power.max_stack_level == 8 and power.rate_unit == "A"
    assert power.defaults_pushed_at == NOW
    maximum, default = (call.payload for call in fleet.actions())
    assert maximum["evseId"] == 0
    assert maximum["chargingProfile"]["chargingProfilePurpose"] == "ChargingStationMaxProfile"
    assert (
        maximum["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"]
        == 16.0
    )
    assert default["chargingProfile"]["chargingProfilePurpose"] == "TxDefaultProfile"
    assert (
        default["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"]
        == 0.0
    )

    # The allocation never gives D more than its selection, and its TxProfile uses the top
    # stack level the station reported.
    start_all(garage, "D")
    services.site_rebalance(site_id=garage.site.pk, now=NOW, send=fleet)
    assert limits(garage)["D"] == Decimal("16")
    tx = fleet.actions()[-1].payload["chargingProfile"]
    assert tx["stackLevel"] == 8


def test_power_selection_never_exceeds_hardware_or_circuit(garage):
    station = garage.stations["A"]
    power = services.station_power_set(
        station=station, node=garage.c1, breaker_rating_a=Decimal("100")
    )
    assert power.selected_max_a == Decimal("32.0")  # the circuit allows 32 A, hardware 32 A
    services.power_node_update(node=garage.c1, rating_a=Decimal("30"))
    power.refresh_from_db()
    assert power.selected_max_a == Decimal("24.0")  # 80 % of the circuit's new 30 A


def test_a_1_6_station_that_takes_only_watts_gets_watts(garage, fleet):
    station = garage.stations["A"]
    fleet.configuration["GARAGE-A"] = {
        "configurationKey": [
            {"key": "ChargeProfileMaxStackLevel", "readonly": True, "value": "3"},
            {"key": "ChargingScheduleAllowedChargingRateUnit", "readonly": True, "value": "Power"},
        ]
    }
    services.station_power_connect(station_id=station.pk, now=NOW, send=fleet)
    start_all(garage, "A")
    fleet.calls.clear()
    services.site_rebalance(site_id=garage.site.pk, now=NOW, send=fleet)
    schedule = fleet.actions()[0].payload["csChargingProfiles"]["chargingSchedule"]
    assert schedule["chargingRateUnit"] == "W"
    # 32 A (C1's limit) x 230 V x 3 phases
    assert schedule["chargingSchedulePeriod"][0]["limit"] == 22080.0
    assert fleet.actions()[0].payload["csChargingProfiles"]["stackLevel"] == 3


def test_a_rejected_profile_is_a_failure(garage, fleet):
    start_all(garage, "A")
    fleet.reject.add("GARAGE-A")
    outcome = services.site_rebalance(site_id=garage.site.pk, now=NOW, send=fleet)
    assert outcome.failed == 1
    row = EvseAllocation.objects.get(evse=garage.evse("A"))
    assert row.push_state == PushState.RETRYING
    assert row.last_error == "Answered Rejected"


def test_a_limit_override_lowers_the_site_for_its_duration(garage, fleet):
    start_all(garage, "AD")
    services.limit_override_create(
        node=garage.supply,
        source=LimitSource.DEMAND_RESPONSE,
        limit_a=Decimal("35"),
        starts_at=NOW,
        ends_at=NOW + dt.timedelta(hours=1),
        reference="openadr-event-1",
    )
    services.site_rebalance(site_id=garage.site.pk, now=NOW, send=fleet)
    assert charging(garage) == {"A": Decimal("10"), "D": Decimal("10")}  # (35 - 15) / 2
    services.site_rebalance(site_id=garage.site.pk, now=NOW + dt.timedelta(hours=2), send=fleet)
    assert charging(garage) == {"A": Decimal("24"), "D": Decimal("24")}


def test_a_measured_building_load_replaces_the_assumed_one(garage, fleet):
    start_all(garage, "AD")
    services.node_load_report(node=garage.supply, load_w=3 * 230 * 33, at=NOW)
    services.site_rebalance(site_id=garage.site.pk, now=NOW, send=fleet)
    assert charging(garage) == {"A": Decimal("15"), "D": Decimal("15")}  # (63 - 33) / 2


def test_scheduled_charging_holds_0_a_until_its_start(garage, fleet):
    services.charging_rule_create(
        site=garage.site,
        name="Off-peak",
        mode=ScheduleMode.START_AT,
        start_time=dt.time(22, 0),
        departure_time=dt.time(6, 0),
    )
    sessions = start_all(garage, "A")
    power = SessionPower.objects.get(session=sessions["A"])
    assert power.starts_at == dt.datetime(2026, 3, 2, 22, 0, tzinfo=MONTREAL)
    assert power.departure_at == dt.datetime(2026, 3, 3, 6, 0, tzinfo=MONTREAL)
    services.site_rebalance(site_id=garage.site.pk, now=NOW, send=fleet)
    row = EvseAllocation.objects.get(evse=garage.evse("A"))
    assert (row.limit_da, row.reason) == (0, "scheduled")
    periods = fleet.actions()[-1].payload["csChargingProfiles"]["chargingSchedule"][
        "chargingSchedulePeriod"
    ]
    assert periods == [{"startPeriod": 0, "limit": 0.0, "numberPhases": 3}]

    # A minute before 22:00 it reserves its minimum and the profile starts it at 22:00.
    before = power.starts_at - dt.timedelta(minutes=1)
    services.site_rebalance(site_id=garage.site.pk, now=before, send=fleet)
    schedule = fleet.actions()[-1].payload["csChargingProfiles"]["chargingSchedule"]
    assert [p["limit"] for p in schedule["chargingSchedulePeriod"]] == [0.0, 6.0]
    start = dt.datetime.fromisoformat(schedule["startSchedule"].replace("Z", "+00:00"))
    second = schedule["chargingSchedulePeriod"][1]["startPeriod"]
    assert start + dt.timedelta(seconds=second) == power.starts_at

    services.site_rebalance(
        site_id=garage.site.pk, now=power.starts_at + dt.timedelta(seconds=30), send=fleet
    )
    assert limits(garage)["A"] == Decimal("32")


def test_cheapest_hours_before_departure(garage):
    services.charging_rule_create(
        site=garage.site,
        name="Fleet overnight",
        token_group="FLEET",
        mode=ScheduleMode.CHEAPEST,
        departure_time=dt.time(7, 0),
        energy_kwh=Decimal("20"),
        priority=1,
    )
    for start, end, price in (
        (dt.time(7, 0), dt.time(23, 0), "0.21"),
        (dt.time(23, 0), dt.time(7, 0), "0.09"),
        (dt.time(1, 0), dt.time(5, 0), "0.06"),
    ):
        services.energy_rate_create(
            site=garage.site, start_time=start, end_time=end, price_per_kwh=Decimal(price)
        )
    from apps.charging.services import token_create

    token_create(uid="FLEET-7", parent_uid="FLEET")
    session = start_session(garage.stations["A"], at=NOW, token="FLEET-7")
    power = services.session_power_start(session_id=session.pk, now=NOW)
    # 20 kWh at 75 % of 7.4 kW: 3 h 45 min, inside the 01:00-05:00 cheapest hours.
    assert power.priority == 1
    assert power.starts_at == dt.datetime(2026, 3, 3, 1, 0, tzinfo=MONTREAL)
    assert power.departure_at == dt.datetime(2026, 3, 3, 7, 0, tzinfo=MONTREAL)
    other = start_session(garage.stations["B"], at=NOW, token="CARD-9")
    assert services.session_power_start(session_id=other.pk, now=NOW).starts_at is None


def test_a_vehicle_drawing_less_is_noticed(garage, fleet):
    sessions = start_all(garage, "AD")
    services.site_rebalance(site_id=garage.site.pk, now=NOW, send=fleet)
    assert limits(garage)["A"] == Decimal("24")
    # A single-phase vehicle on A, drawing 10 A on L1: worth a rebalance.
    assert services.session_draw_record(
        session_id=sessions["A"].pk, current_a={"L1": 10.2, "L2": 0.1, "L3": 0.0}, at=NOW
    )
    power = SessionPower.objects.get(session=sessions["A"])
    assert (power.draw_a, power.vehicle_phases) == (Decimal("10.2"), 1)
    later = NOW + dt.timedelta(minutes=2)
    services.session_draw_record(
        session_id=sessions["A"].pk, current_a={"L1": 10.2, "L2": 0.1, "L3": 0.0}, at=later
    )
    services.site_rebalance(site_id=garage.site.pk, now=later, send=fleet)
    # A keeps 13 A (10.2 A + 2 A margin, in whole amps); D gets the rest of L1 (48 - 13 = 35 A,
    # capped by C2's 40 A and its own 32 A).
    assert charging(garage) == {"A": Decimal("13"), "D": Decimal("32")}


def test_history_and_the_capacity_planner(garage, fleet):
    start_all(garage, "AD")
    for minutes in range(0, 60, 5):
        services.site_rebalance(
            site_id=garage.site.pk, now=NOW + dt.timedelta(minutes=minutes), send=fleet
        )
    intervals = NodeInterval.objects.filter(node=garage.supply).order_by("start")
    assert intervals.count() == 4
    assert intervals[0].samples == 3
    assert intervals[0].base_w == 10350
    plan = selectors.node_capacity_plan(
        node=garage.supply, port_kw=Decimal("7.4"), port_phases=1, now=NOW + dt.timedelta(hours=1)
    )
    assert plan.intervals == 4
    assert plan.ports_that_fit >= 1
    assert plan.rows[0].extra_ports == 0 and plan.rows[0].fits


def test_the_tree_for_people(garage, fleet):
    start_all(garage, "AC")
    services.site_rebalance(site_id=garage.site.pk, now=NOW, send=fleet)
    (supply,) = selectors.site_power_tree(site=garage.site, now=NOW)
    assert supply.node == garage.supply
    assert supply.limit_a == Decimal("63.0")
    assert supply.load_w == 10350
    assert [child.node.name for child in supply.children] == ["C1", "C2"]
    # A (three-phase, 24 A) and C (single-phase on L2, 24 A).
    assert supply.allocated_a == (Decimal("24"), Decimal("48"), Decimal("24"))
    c2 = supply.children[1]
    assert [row.evse.station.identity for row in c2.evses] == [
        "GARAGE-C",
        "GARAGE-D",
        "GARAGE-E",
    ]


def test_people_see_only_the_trees_of_their_sites(personas, alpha_sites):
    from apps.roles.models import Role
    from apps.roles.selectors import UserActor
    from apps.roles.services import role_assign

    site_a1, site_a2 = alpha_sites
    services.power_node_create(site=site_a1, name="A1 supply")
    services.power_node_create(site=site_a2, name="A2 supply")
    installer = Role.objects.create(
        slug="installer-power", name="Installer", permissions=["power.view"]
    )
    role_assign(user=personas.delegate, role=installer, sites=[site_a1], granted_by=None)

    def names(user):
        return sorted(node.name for node in selectors.power_node_list(actor=UserActor(user)))

    assert names(personas.owner) == ["A1 supply", "A2 supply"]
    assert names(personas.delegate) == ["A1 supply"]
    assert names(personas.outsider) == []
    # The built-in fleet-manager role holds power.view on every site.
    assert names(personas.fleet_manager) == ["A1 supply", "A2 supply"]


def test_nodes_refuse_loops_and_foreign_parents(garage, alpha_sites):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.power_node_update(node=garage.supply, parent=garage.c1)
    with pytest.raises(ValidationError):
        services.power_node_create(site=alpha_sites[0], name="Stray", parent=garage.supply)
    with pytest.raises(ValidationError):
        services.power_node_delete(node=garage.supply)


@pytest.mark.parametrize(
    "field, value",
    [
        ("rating_a", Decimal("-1")),
        ("limit_kw", Decimal("-0.5")),
        ("demand_cap_kw", Decimal("-10")),
        ("voltage_v", 5000),
        ("voltage_v", 12),
    ],
)
def test_a_node_refuses_impossible_figures_whoever_saves_it(garage, field, value):
    from django.core.exceptions import ValidationError

    before = {field: getattr(garage.c1, field)}
    with pytest.raises(ValidationError) as caught:
        services.power_node_update(node=garage.c1, **{field: value})
    assert field in caught.value.message_dict
    garage.c1.refresh_from_db()
    assert getattr(garage.c1, field) == before[field]
    with pytest.raises(ValidationError):
        services.power_node_create(
            site=garage.site, name="Odd", parent=garage.supply, **{field: value}
        )


def test_a_limit_override_cannot_be_negative(garage):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        services.limit_override_create(
            node=garage.supply, source=LimitSource.API, limit_a=Decimal("-20")
        )
    assert "limit_a" in caught.value.message_dict
    assert not garage.supply.overrides.exists()
