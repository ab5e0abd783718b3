"""The allocation gives exactly the result of the slow reference (``tests/power/reference.py``):
every EVSE's limit, reason, node, target and schedule, and every node's load -- over random
snapshots of every shape (priorities, minimums, phases and wirings, previous limits for
hysteresis and rotation, vehicles drawing less than offered, scheduled starts, overloaded
supplies, nodes that fill at the same level) and over small copies of the benchmark's trees."""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from apps.power.allocation import Evse, Node, Policy, Session, Snapshot, allocate

from .reference import reference_result
from .strategies import NOW, snapshots

# The suite's share of random snapshots; CHARGEGRID_DIFFERENTIAL_EXAMPLES=1000 (say) searches
# deeper before a change to the allocation lands (each example runs the slow reference).
EXAMPLES = int(os.environ.get("CHARGEGRID_DIFFERENTIAL_EXAMPLES", "150"))
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
LARGER = settings(
    max_examples=max(EXAMPLES // 3, 10), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _bench():
    path = Path(__file__).resolve().parents[2] / "bench" / "power_allocation.py"
    module = sys.modules.get("bench_power_allocation")
    if module is None:
        spec = importlib.util.spec_from_file_location("bench_power_allocation", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_power_allocation"] = module
        spec.loader.exec_module(module)
    return module


def same(snapshot) -> None:
    fast = allocate(snapshot)
    expected = reference_result(snapshot)
    assert fast.allocations == expected.allocations
    assert fast.nodes == expected.nodes


@SETTINGS
@given(snapshots(with_state=True, schedules=True))
def test_same_result_with_state_and_schedules(snapshot):
    same(snapshot)


@SETTINGS
@given(snapshots(remainder=False))
def test_same_result_without_remainder(snapshot):
    same(snapshot)


@SETTINGS
@given(snapshots(with_state=True, crowded=True, schedules=True))
def test_same_result_when_crowded(snapshot):
    """Ties between nodes, minimums that do not all fit, overloaded supplies."""
    same(snapshot)


@SETTINGS
@given(snapshots(with_state=True, crowded=True, remainder=False))
def test_same_result_when_crowded_without_remainder(snapshot):
    same(snapshot)


@LARGER
@given(snapshots(max_nodes=12, max_evses=40, with_state=True, schedules=True))
def test_same_result_on_larger_trees(snapshot):
    same(snapshot)


@LARGER
@given(snapshots(max_nodes=12, max_evses=40, with_state=True, crowded=True))
def test_same_result_on_larger_crowded_trees(snapshot):
    same(snapshot)


@pytest.mark.parametrize("scenario", ["typical", "overloaded"])
@pytest.mark.parametrize(
    ("evses", "circuits", "seed"), [(1_000, 50, 1), (200, 10, 4), (120, 6, 3), (60, 3, 2)]
)
def test_same_result_on_the_benchmark_trees(scenario, evses, circuits, seed):
    snapshot = _bench().build(evses, circuits, scenario, seed=seed)
    same(snapshot)
    same(replace(snapshot, policy=replace(snapshot.policy, share_remainder=False)))


def test_the_benchmark_trees_exercise_every_rule():
    """The benchmark's trees above are not trivial: sessions are paused, held, limited by
    priority, by their share, by their minimum and by their vehicle."""
    reasons = set()
    for scenario in ("typical", "overloaded"):
        result = allocate(_bench().build(200, 10, scenario, seed=4))
        reasons |= {allocation.reason.value for allocation in result.allocations.values()}
    assert {"paused", "hold", "priority", "share", "min", "vehicle"} <= reasons


def _tie(supply_da: int, circuit_da: int, remainder: bool):
    """Two single-phase sessions on a circuit and two beside it on the supply, on L3 only."""
    nodes = (Node(1, None, (None, None, supply_da)), Node(2, 1, (None, None, circuit_da)))
    evses = tuple(Evse(i, 2 if i <= 2 else 1, legs=((2,),)) for i in range(1, 5))
    sessions = tuple(Session(i, NOW - timedelta(minutes=i)) for i in range(1, 5))
    return Snapshot(nodes, evses, sessions, NOW, policy=Policy(share_remainder=remainder))


@pytest.mark.parametrize("remainder", [True, False])
@pytest.mark.parametrize(
    ("supply_da", "circuit_da", "named"),
    [
        # Both full at 62.5 dA: sessions get 62, so the supply is not quite full for the
        # circuit's two -- the circuit limits them, the supply the other two.
        (250, 125, {1: 2, 2: 2, 3: 1, 4: 1}),
        # Both full at 65 dA, a whole level, and the supply has sessions of its own: it limits all.
        (260, 130, {1: 1, 2: 1, 3: 1, 4: 1}),
        (240, 130, {1: 1, 2: 1, 3: 1, 4: 1}),  # the supply alone, at the minimums
    ],
)
def test_same_result_when_nodes_fill_at_the_same_level(supply_da, circuit_da, named, remainder):
    snapshot = _tie(supply_da, circuit_da, remainder)
    same(snapshot)
    assert {e: a.node for e, a in allocate(snapshot).allocations.items()} == named
