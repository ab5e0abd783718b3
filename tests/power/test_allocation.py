"""Worked examples of the allocation rules (the same as in docs/power.md).  Pure: no database.

The garage: a 63 A three-phase supply carrying 15 A of building load per line, so 48 A per line
for charging; circuit C1 (32 A) and circuit C2 (40 A) hang on it.  Currents in deciamps.
"""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta

import pytest

from apps.power.allocation import (
    Evse,
    EvseState,
    Node,
    Policy,
    Reason,
    Session,
    Snapshot,
    SnapshotError,
    allocate,
)

NOW = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
SUPPLY, C1, C2 = 1, 2, 3
L1, L2, L3 = ((0,),), ((1,),), ((2,),)
THREE = ((0,), (1,), (2,))


def garage(supply_da: int = 630) -> tuple[Node, ...]:
    return (
        Node(SUPPLY, None, (supply_da,) * 3, load_da=(150, 150, 150)),
        Node(C1, SUPPLY, (320, 320, 320)),
        Node(C2, SUPPLY, (400, 400, 400)),
    )


EVSES = (
    Evse(1, C1),  # A: three-phase
    Evse(2, C1),  # B: three-phase EVSE, single-phase vehicle
    Evse(3, C2, legs=L2),  # C: single-phase EVSE on L2
    Evse(4, C2),  # D
    Evse(5, C2),  # E: its vehicle draws 7 A of the 16 A it was offered
)


def sessions(priority_d: int = 0) -> tuple[Session, ...]:
    start = NOW - timedelta(hours=1)
    return (
        Session(1, start),
        Session(2, start + timedelta(minutes=1), vehicle_phases=1),
        Session(3, start + timedelta(minutes=2)),
        Session(4, start + timedelta(minutes=3), priority=priority_d),
        Session(5, start + timedelta(minutes=4), draw_da=70),
    )


def long_ago(limit_da: int) -> EvseState:
    return EvseState(limit_da, NOW - timedelta(hours=1), NOW - timedelta(hours=1))


def limits(result) -> dict[int, int]:
    return {evse: a.limit_da for evse, a in result.allocations.items()}


def reasons(result) -> dict[int, str]:
    return {evse: a.reason for evse, a in result.allocations.items()}


def test_equal_share_with_unused_capacity_redistributed():
    # E draws 7 A: it keeps 9 A (draw + 2 A margin) and the rest is shared.  Everyone else
    # rises together to 13 A, where the supply's L1 (A+B+D+E) and L2 (A+C+D+E) are full.
    state = {5: long_ago(160)}
    result = allocate(Snapshot(garage(), EVSES, sessions(), NOW, state))
    assert limits(result) == {1: 130, 2: 130, 3: 130, 4: 130, 5: 90}
    assert reasons(result) == {1: "share", 2: "share", 3: "share", 4: "share", 5: "vehicle"}
    assert result.allocations[1].node == SUPPLY
    supply = result.nodes[SUPPLY]
    assert supply.allocated_da == (480, 480, 350)
    assert supply.headroom_da() == (0, 0, 130)


def test_priority_is_served_first_above_the_minimums():
    # D (a fleet vehicle) fills first: C2's L2 (C 6 + D + E 6 <= 40) stops it at 28 A.  The
    # others share what is left: C and E stay at their 6 A minimum on C2; A and B get 7 A each
    # on the supply's L1 (A + B + 28 + 6 <= 48).
    state = {5: long_ago(160)}
    result = allocate(Snapshot(garage(), EVSES, sessions(priority_d=1), NOW, state))
    assert limits(result) == {1: 70, 2: 70, 3: 60, 4: 280, 5: 60}
    assert reasons(result) == {1: "priority", 2: "priority", 3: "min", 4: "share", 5: "min"}
    assert result.allocations[3].node == C2
    assert result.allocations[1].node == SUPPLY


def test_a_single_phase_vehicle_leaves_the_other_lines_to_others():
    # C1 alone with a 20 A limit: A (three-phase) and B's single-phase vehicle share L1 at
    # 10 A each.  Were B counted on three lines, the same; but with B on L1 only, a third
    # session on L2 (F) is not held back by B.
    nodes = (Node(SUPPLY, None, (200, 200, 200)),)
    evses = (Evse(1, SUPPLY), Evse(2, SUPPLY), Evse(6, SUPPLY, legs=L2))
    snapshot = Snapshot(
        nodes,
        evses,
        (
            Session(1, NOW - timedelta(hours=1)),
            Session(2, NOW - timedelta(hours=1), vehicle_phases=1),
            Session(6, NOW - timedelta(hours=1)),
        ),
        NOW,
    )
    assert limits(allocate(snapshot)) == {1: 100, 2: 100, 6: 100}
    rotated = Snapshot(
        nodes,
        (Evse(1, SUPPLY), Evse(2, SUPPLY, legs=((1,), (2,), (0,))), Evse(6, SUPPLY, legs=L2)),
        snapshot.sessions,
        NOW,
    )
    # Wired with rotation STR, B's single phase lands on L2: now A, B and F share L2.
    assert limits(allocate(rotated)) == {1: 66, 2: 67, 6: 67}


def test_nodes_full_at_the_same_level_name_the_one_that_limits():
    # C1 and the supply both have exactly 10 A on L3 for A, which needs 10 A: both are full at
    # once, but the supply carries nothing else -- C1 is what limits A.
    nodes = (Node(SUPPLY, None, (None, None, 100)), Node(C1, SUPPLY, (None, None, 100)))
    evses = (Evse(1, C1, min_da=100, max_da=320), Evse(2, SUPPLY, min_da=60, max_da=320))
    alone = allocate(Snapshot(nodes, evses, (Session(1, NOW, min_da=100),), NOW))
    assert limits(alone)[1] == 100 and alone.allocations[1].node == C1
    # With B on the supply too (20 A on L3 now), both rise to 10 A and fill the supply and C1
    # at once: the supply limits both (whole amps: C1 has no room left either).
    nodes = (Node(SUPPLY, None, (None, None, 200)), Node(C1, SUPPLY, (None, None, 100)))
    both = allocate(Snapshot(nodes, evses, (Session(1, NOW, min_da=60), Session(2, NOW)), NOW))
    assert limits(both) == {1: 100, 2: 100}
    assert both.allocations[1].node == SUPPLY and both.allocations[2].node == SUPPLY


def test_not_enough_for_every_minimum_pauses_the_latest_and_rotates():
    # A 30 A supply leaves 15 A per line: two 6 A minimums per line.  In order of arrival A
    # (all lines), B (L1) and C (L2) fit; D and E wait, paused at 0.
    result = allocate(Snapshot(garage(300), EVSES, sessions(), NOW))
    assert limits(result) == {1: 75, 2: 75, 3: 75, 4: 0, 5: 0}
    assert reasons(result)[4] == "paused"
    assert result.allocations[4].node == SUPPLY

    # 20 minutes later A, B and C have had their 15-minute turn; D and E, waiting since they
    # arrived, go first.  A, B and C are paused (reductions apply at once).
    later = NOW + timedelta(minutes=20)
    state = {
        1: EvseState(75, NOW, NOW),
        2: EvseState(75, NOW, NOW),
        3: EvseState(75, NOW, NOW),
        4: EvseState(0, None, NOW),
        5: EvseState(0, None, NOW),
    }
    result = allocate(Snapshot(garage(300), EVSES, sessions(), later, state))
    assert limits(result) == {1: 0, 2: 0, 3: 0, 4: 75, 5: 75}


def test_a_powered_session_keeps_its_turn_against_a_newcomer():
    nodes = (Node(SUPPLY, None, (100, 100, 100)),)
    evses = (Evse(1, SUPPLY), Evse(2, SUPPLY))
    state = {1: EvseState(100, NOW - timedelta(minutes=5), NOW - timedelta(minutes=5))}
    snapshot = Snapshot(
        nodes,
        evses,
        (Session(1, NOW - timedelta(minutes=5)), Session(2, NOW - timedelta(minutes=10))),
        NOW,
        state,
    )
    # Session 2 arrived earlier but session 1 holds power since 5 minutes: it keeps it.
    assert limits(allocate(snapshot)) == {1: 100, 2: 0}


def test_raises_are_held_back_but_reductions_apply_at_once():
    nodes = (Node(SUPPLY, None, (400, 400, 400)),)
    evses = (Evse(1, SUPPLY), Evse(2, SUPPLY), Evse(3, SUPPLY))
    started = NOW - timedelta(hours=1)
    snapshot = Snapshot(
        nodes,
        evses,
        (Session(1, started), Session(2, started), Session(3, started)),
        NOW,
        {
            1: EvseState(125, NOW - timedelta(seconds=20), started),  # changed 20 s ago
            2: EvseState(128, NOW - timedelta(minutes=5), started),  # +0.5 A only
            3: EvseState(160, NOW - timedelta(minutes=5), started),  # must come down
        },
        Policy(),
    )
    result = allocate(snapshot)
    assert limits(result) == {1: 125, 2: 128, 3: 133}
    assert reasons(result) == {1: "hold", 2: "hold", 3: "share"}
    assert result.allocations[1].target_da == 134  # 40 A / 3: the spare 0.1 A goes to EVSE 1


def test_power_limit_in_kw_and_line_to_line_evses():
    # A North-American panel: 208 V EVSEs between two lines, a 20 kW cap on the panel.
    nodes = (Node(SUPPLY, None, (800, 800, 800), limit_w=20_000),)
    evses = (
        Evse(1, SUPPLY, legs=((0, 1),), volts=208, max_da=480),
        Evse(2, SUPPLY, legs=((1, 2),), volts=208, max_da=480),
        Evse(3, SUPPLY, legs=((2, 0),), volts=208, max_da=480),
    )
    started = NOW - timedelta(hours=1)
    result = allocate(Snapshot(nodes, evses, tuple(Session(i, started) for i in (1, 2, 3)), NOW))
    # 20 kW / (3 x 208 V) = 32.05 A each; every line carries two EVSEs (64.1 A of 80 A).
    assert limits(result) == {1: 321, 2: 320, 3: 320}
    assert result.nodes[SUPPLY].allocated_w <= 20_000


def test_unmanaged_and_idle_evses_are_counted_first():
    nodes = (Node(SUPPLY, None, (400, 400, 400)),)
    evses = (
        Evse(1, SUPPLY, max_da=160, controllable=False),  # offline: assumed at 16 A
        Evse(2, SUPPLY, idle_da=60),  # no session: its default profile allows 6 A
        Evse(3, SUPPLY),
    )
    result = allocate(Snapshot(nodes, evses, (Session(3, NOW),), NOW))
    assert limits(result) == {1: 160, 2: 60, 3: 180}
    assert reasons(result) == {1: "unmanaged", 2: "idle", 3: "share"}


def test_scheduled_sessions_wait_then_reserve_their_minimum_before_starting():
    nodes = (Node(SUPPLY, None, (200, 200, 200)),)
    evses = (Evse(1, SUPPLY), Evse(2, SUPPLY))
    later = Session(2, NOW - timedelta(hours=1), starts_at=NOW + timedelta(hours=3))
    result = allocate(Snapshot(nodes, evses, (Session(1, NOW), later), NOW))
    assert limits(result) == {1: 200, 2: 0}
    assert reasons(result)[2] == "scheduled"
    assert result.allocations[2].scheduled_da == 0

    soon = Session(2, NOW - timedelta(hours=1), starts_at=NOW + timedelta(minutes=1))
    result = allocate(Snapshot(nodes, evses, (Session(1, NOW), soon), NOW))
    assert limits(result) == {1: 140, 2: 0}
    assert result.allocations[2].scheduled_da == 60
    assert result.allocations[2].scheduled_at == soon.starts_at


def test_a_vehicle_that_cannot_reach_its_minimum_never_gets_power():
    nodes = (Node(SUPPLY, None, (400, 400, 400)),)
    result = allocate(
        Snapshot(nodes, (Evse(1, SUPPLY, max_da=50),), (Session(1, NOW, min_da=60),), NOW)
    )
    assert limits(result) == {1: 0}
    assert reasons(result) == {1: "paused"}


def test_a_line_without_conductor_pauses_what_needs_it():
    # A single-phase sub-panel on L2: a three-phase EVSE under it cannot be powered.
    nodes = (Node(SUPPLY, None, (400, 400, 400)), Node(C1, SUPPLY, (0, 320, 0)))
    evses = (Evse(1, C1), Evse(2, C1, legs=L2))
    result = allocate(Snapshot(nodes, evses, (Session(1, NOW), Session(2, NOW)), NOW))
    assert limits(result) == {1: 0, 2: 320}


@pytest.mark.parametrize(
    ("nodes", "evses", "message"),
    [
        ((Node(1, 9),), (), "unknown parent"),
        ((Node(1, 2), Node(2, 1)), (), "cycle"),
        ((Node(1), Node(1)), (), "twice"),
        ((Node(1),), (Evse(1, 7),), "unknown node"),
        ((Node(1),), (Evse(1, 1), Evse(1, 1)), "twice"),
        ((Node(1),), (Evse(1, 1, legs=((4,),)),), "Grid line"),
    ],
)
def test_snapshots_that_are_not_trees_are_refused(nodes, evses, message):
    with pytest.raises(SnapshotError, match=message):
        allocate(Snapshot(nodes, evses, (), NOW))


def test_sessions_on_unknown_or_shared_evses_are_refused():
    nodes = (Node(1),)
    with pytest.raises(SnapshotError, match="unknown EVSE"):
        allocate(Snapshot(nodes, (), (Session(1, NOW),), NOW))
    with pytest.raises(SnapshotError, match="Two sessions"):
        allocate(Snapshot(nodes, (Evse(1, 1),), (Session(1, NOW), Session(1, NOW)), NOW))


def test_reason_values_are_stable_strings():
    # The portal, the API and stored history use these values.
    assert {reason.value for reason in Reason} == {
        "paused",
        "min",
        "share",
        "priority",
        "max",
        "vehicle",
        "hold",
        "scheduled",
        "unmanaged",
        "idle",
    }


def test_allocate_leaves_the_garbage_collector_as_it_found_it():
    # allocate() pauses the cyclic collector while it runs (docs/power.md, Performance).
    snapshot = Snapshot(garage(), EVSES[:1], (Session(1, NOW),), NOW)
    assert gc.isenabled()
    allocate(snapshot)
    assert gc.isenabled()
    with pytest.raises(SnapshotError):
        allocate(Snapshot(garage(), EVSES[:1], (Session(9, NOW),), NOW))
    assert gc.isenabled()
    gc.disable()
    try:
        allocate(snapshot)
        assert not gc.isenabled()
    finally:
        gc.enable()
