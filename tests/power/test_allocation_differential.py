"""The allocation gives exactly the result of the implementation before its speed-up
(``tests/power/allocation_before.py``): every EVSE's limit, reason, node, target and schedule, and
every node's load, over random snapshots and over the benchmark's trees."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from apps.power.allocation import allocate

from . import allocation_before
from .strategies import snapshots

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


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
    before = allocation_before.allocate(snapshot)
    assert fast.allocations == before.allocations
    assert fast.nodes == before.nodes


@SETTINGS
@given(snapshots(with_state=True))
def test_same_result_with_state(snapshot):
    same(snapshot)


@SETTINGS
@given(snapshots(remainder=False))
def test_same_result_without_remainder(snapshot):
    same(snapshot)


@SETTINGS
@given(snapshots(max_nodes=12, max_evses=40, with_state=True))
def test_same_result_on_larger_trees(snapshot):
    same(snapshot)


@pytest.mark.parametrize("scenario", ["typical", "overloaded"])
@pytest.mark.parametrize(
    ("evses", "circuits", "seed"),
    [(10_000, 500, 5), (1_000, 50, 1), (1_000, 50, 2), (400, 20, 3), (200, 10, 4)],
)
def test_same_result_on_the_benchmark_trees(scenario, evses, circuits, seed):
    snapshot = _bench().build(evses, circuits, scenario, seed=seed)
    same(snapshot)
    same(replace(snapshot, policy=replace(snapshot.policy, share_remainder=False)))
