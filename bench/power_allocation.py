"""Benchmark of ``apps.power.allocation.allocate``: 10,000 EVSEs in 500 circuits.

Target (issue 5): under 20 ms per allocation.  Run::

    .venv/bin/python bench/power_allocation.py [--evses 10000] [--circuits 500] [--repeat 20]

The tree: a site supply -> 25 panels -> 500 circuits of 20 EVSEs, every level oversubscribed.
``typical``: 20 x 32 A EVSEs on a 160 A circuit (4x), 20 circuits on a 2,000 A panel (1.6x), a
supply limit of 35 MW that binds.  ``overloaded``: 100 A circuits and 1,200 A panels, so that
minimums do not fit and a thousand sessions wait their turn (admission and rotation at work).
70 % of the EVSEs are three-phase with mixed phase rotations, 30 % single-phase on L1, L2 or L3;
80 % have a session, some with single-phase vehicles, some drawing less than offered, 10 % of
them with a higher priority, and every EVSE has a previous limit (hysteresis state).

``apps/power/allocation.py`` is plain Python, interpreted (issue 11 dropped the mypyc build that
made it about twice as fast: it slowed every first install and needed a C toolchain).

Other processes share this machine, so the figures are CPU time of this process
(``time.process_time``) as well as wall-clock time; the minimum is the least disturbed run.

The baseline, measured in the same run over the same sessions, is the plainest useful loop:
each circuit's limit split equally among its sessions, capped at each EVSE's maximum -- no tree,
no phases, no minimums, no redistribution.  It shows what the real rules cost on top of a loop.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apps.power.allocation import (  # noqa: E402
    Evse,
    EvseState,
    Node,
    Policy,
    Session,
    Snapshot,
    allocate,
)

ROTATIONS = (((0,), (1,), (2,)), ((1,), (2,), (0,)), ((2,), (0,), (1,)))
SINGLE = (((0,),), ((1,),), ((2,),))


SCENARIOS = {
    # circuit dA, panel dA, supply W per EVSE
    "typical": (1600, 20000, 3500),
    "overloaded": (1000, 12000, 2300),
}


def build(
    evse_count: int, circuit_count: int, scenario: str = "typical", seed: int = 5
) -> Snapshot:
    rng = random.Random(seed)
    now = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)
    circuit_da, panel_da, supply_w = SCENARIOS[scenario]
    panels = max(1, circuit_count // 20)
    nodes = [Node(1, None, (None, None, None), limit_w=evse_count * supply_w)]
    for p in range(panels):
        nodes.append(Node(100 + p, 1, (panel_da,) * 3, load_da=(300, 200, 250)))
    for c in range(circuit_count):
        nodes.append(Node(10_000 + c, 100 + c % panels, (circuit_da,) * 3))
    evses, sessions, state = [], [], {}
    for e in range(evse_count):
        circuit = 10_000 + e % circuit_count
        three_phase = rng.random() < 0.7
        legs = rng.choice(ROTATIONS) if three_phase else rng.choice(SINGLE)
        evses.append(Evse(e + 1, circuit, legs, 230, 60, 320, idle_da=0))
        if rng.random() < 0.8:
            previous = rng.choice((60, 100, 160, 320))
            draw = None
            if rng.random() < 0.3:
                draw = rng.randint(20, previous)
            sessions.append(
                Session(
                    e + 1,
                    started_at=now - timedelta(minutes=rng.randint(1, 600)),
                    priority=1 if rng.random() < 0.1 else 0,
                    vehicle_phases=1 if three_phase and rng.random() < 0.2 else None,
                    draw_da=draw,
                )
            )
            state[e + 1] = EvseState(
                previous,
                changed_at=now - timedelta(seconds=rng.randint(10, 900)),
                since=now - timedelta(minutes=rng.randint(1, 60)),
            )
    return Snapshot(tuple(nodes), tuple(evses), tuple(sessions), now, state, Policy())


def baseline(snapshot: Snapshot) -> dict[int, int]:
    """Equal split of each circuit among its sessions, capped at the EVSE maximum."""
    limits = {node.id: node.limit_da[0] or 0 for node in snapshot.nodes}
    node_of = {evse.id: (evse.node, evse.max_da) for evse in snapshot.evses}
    count: dict[int, int] = {}
    for session in snapshot.sessions:
        node = node_of[session.evse][0]
        count[node] = count.get(node, 0) + 1
    result = {}
    for session in snapshot.sessions:
        node, maximum = node_of[session.evse]
        result[session.evse] = min(maximum, limits[node] // count[node])
    return result


def measure(function, argument, repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each run."""
    wall, cpu = [], []
    for _ in range(repeat):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        function(argument)
        cpu.append((time.process_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start) * 1000)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--evses", type=int, default=10_000)
    parser.add_argument("--circuits", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="typical")
    args = parser.parse_args()

    snapshot = build(args.evses, args.circuits, args.scenario)
    result = allocate(snapshot)  # warm-up, and the figures below
    fast_wall, fast = measure(allocate, snapshot, args.repeat)
    plain_wall, plain = measure(baseline, snapshot, args.repeat)
    rows = [("allocate", fast, fast_wall), ("baseline loop", plain, plain_wall)]

    reasons: dict[str, int] = {}
    for given in result.allocations.values():
        reasons[given.reason] = reasons.get(given.reason, 0) + 1
    root = result.nodes[1]
    print(
        f"scenario {args.scenario}: {len(snapshot.evses)} EVSEs, {args.circuits} circuits, "
        f"{len(snapshot.nodes)} nodes, {len(snapshot.sessions)} sessions"
    )
    print(
        "measured: one complete allocate() of the whole snapshot per run (tree, classes, admission,"
        " fill, results); nothing is cached between runs"
    )
    print("reasons:", ", ".join(f"{name}={n}" for name, n in sorted(reasons.items())))
    print(f"supply: {root.allocated_w / 1000:.1f} kW allocated of {root.limit_w / 1000:.1f} kW")
    for name, cpu, wall in rows:
        print(
            f"{name:>14}: CPU median {statistics.median(cpu):7.2f} ms, min {min(cpu):7.2f} ms;"
            f" wall median {statistics.median(wall):7.2f} ms, min {min(wall):7.2f} ms"
            f" ({args.repeat} runs)"
        )
    ratio = statistics.median(fast) / statistics.median(plain)
    print(f"allocate / baseline (CPU): {ratio:.1f}x")
    if (args.evses, args.circuits) == (10_000, 500):
        verdict = "meets" if statistics.median(fast) < 20 else "misses"
        print(f"issue 5 target (10,000 EVSEs in 500 circuits under 20 ms): {verdict} it")


if __name__ == "__main__":
    main()
