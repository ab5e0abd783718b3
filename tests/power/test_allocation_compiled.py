"""The compiled power allocation (``bin/_bootstrap`` builds ``apps/power/allocation.py`` with mypyc
into an extension module next to it): whether it is the module in use, that it was built from
the current source, and that it gives exactly the pure-Python module's results."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from apps.power import allocation

from .strategies import snapshots
from .test_allocation_differential import _bench

SOURCE = Path(allocation.__file__).with_name("allocation.py")
ROOT = Path(__file__).resolve().parents[2]
COMPILED = not allocation.__file__.endswith(".py")
NOT_BUILT = (
    "apps/power/allocation.py is not compiled (bin/_bootstrap: no gcc or mypyc, or it failed)"
)


def _pure():
    """``apps/power/allocation.py`` itself, under another name."""
    name = "apps.power.allocation_pure"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, SOURCE)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
    return module


def same(snapshot) -> None:
    compiled = allocation.allocate(snapshot)
    pure = _pure().allocate(snapshot)
    assert compiled.allocations == pure.allocations
    assert compiled.nodes == pure.nodes
    # Reasons compare as strings: check they are the same members, too.
    assert [a.reason.name for a in compiled.allocations.values()] == [
        a.reason.name for a in pure.allocations.values()
    ]


@pytest.mark.skipif(not COMPILED, reason=NOT_BUILT)
def test_the_compiled_module_is_in_use():
    assert allocation.__file__.endswith(".so")
    assert type(allocation.allocate).__name__ == "builtin_function_or_method"
    pure = _pure()
    assert pure.__file__ == str(SOURCE)
    assert type(pure.allocate).__name__ == "function"


@pytest.mark.skipif(not COMPILED, reason=NOT_BUILT)
def test_the_compiled_module_is_built_from_the_current_source():
    built = ROOT / "var" / "mypyc" / "source.sha256"
    if not built.exists():
        pytest.skip("built outside bin/_bootstrap: no var/mypyc/source.sha256 to compare with")
    current = hashlib.sha256(SOURCE.read_bytes()).hexdigest()
    assert built.read_text().strip() == current, (
        "apps/power/allocation.py changed since it was compiled: run bin/_bootstrap "
        "(source bin/_bootstrap) to rebuild the extension module"
    )


@pytest.mark.skipif(not COMPILED, reason=NOT_BUILT)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshots(max_nodes=10, max_evses=30, with_state=True))
def test_compiled_and_pure_give_the_same_result(snapshot):
    same(snapshot)
    same(replace(snapshot, policy=replace(snapshot.policy, share_remainder=False)))


@pytest.mark.skipif(not COMPILED, reason=NOT_BUILT)
@pytest.mark.parametrize("scenario", ["typical", "overloaded"])
def test_compiled_and_pure_give_the_same_result_on_a_benchmark_tree(scenario):
    same(_bench().build(2_000, 100, scenario, seed=7))
