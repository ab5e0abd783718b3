"""Hypothesis strategies: random electrical trees, EVSEs, sessions and previous state.

``crowded`` draws limits from a few round values and builds trees from the same parts, so that
nodes fill at the very same level (ties), minimums do not all fit (rotation) and the supply is
overloaded by load we do not control; ``schedules`` adds sessions that start later (within the
lookahead or beyond it).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from apps.power.allocation import Evse, EvseState, Node, Policy, Session, Snapshot

NOW = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
WIRINGS = (
    ((0,), (1,), (2,)),  # three-phase, rotations RST, STR, TRS
    ((1,), (2,), (0,)),
    ((2,), (0,), (1,)),
    ((0,),),  # single-phase on one line
    ((1,),),
    ((2,),),
    ((0, 1),),  # line to line (208/240 V)
    ((1, 2),),
    ((2, 0),),
)


@st.composite
def snapshots(
    draw,
    max_nodes: int = 7,
    max_evses: int = 14,
    with_state: bool = False,
    remainder=True,
    crowded: bool = False,
    schedules: bool = False,
):
    node_count = draw(st.integers(1, max_nodes))
    nodes = []
    if crowded:
        limit = st.one_of(st.none(), st.sampled_from((180, 240, 360, 480, 720, 960, 1200)))
        power = st.one_of(st.none(), st.none(), st.sampled_from((13_800, 27_600, 41_400, 82_800)))
        load = st.sampled_from((0, 0, 0, 0, 60, 120, 500))
    else:
        limit = st.one_of(st.none(), st.integers(0, 1200), st.integers(100, 400))
        power = st.one_of(st.none(), st.none(), st.integers(0, 150_000))
        load = st.sampled_from((0, 0, 30, 120))
    for i in range(node_count):
        parent = None if i == 0 else draw(st.integers(0, i - 1))
        nodes.append(
            Node(
                id=100 + i,
                parent=None if parent is None else 100 + parent,
                limit_da=(draw(limit), draw(limit), draw(limit)),
                limit_w=draw(power),
                load_da=tuple(draw(load) for _ in range(3)),
                load_w=draw(st.sampled_from((0, 0, 2_000))),
            )
        )
    evses, sessions, state = [], [], {}
    for e in range(draw(st.integers(0, max_evses))):
        minimum = draw(st.sampled_from((60, 60, 60, 80, 10, 0)))
        evse = Evse(
            id=e + 1,
            node=100 + draw(st.integers(0, node_count - 1)),
            legs=draw(st.sampled_from(WIRINGS)),
            volts=draw(st.sampled_from((230, 230, 208, 240))),
            min_da=minimum,
            max_da=draw(
                st.sampled_from((60, 120, 160, 320))
                if crowded
                else st.integers(max(minimum - 10, 0), 500)
            ),
            idle_da=draw(st.sampled_from((0, 0, 0, 60))),
            controllable=draw(st.integers(0, 9)) > 0
            if crowded
            else draw(st.booleans()) or draw(st.booleans()),
        )
        evses.append(evse)
        if not draw(st.integers(0, 4)):
            continue
        # Seconds from now: started, within the lookahead (2 minutes), beyond it.
        starts_in = draw(
            st.sampled_from((None,) * 6 + (-60, 30, 120, 600)) if schedules else st.none()
        )
        waited = st.sampled_from((0, 5, 60)) if crowded else st.integers(0, 300)
        sessions.append(
            Session(
                evse=evse.id,
                started_at=NOW - timedelta(minutes=draw(waited)),
                priority=draw(st.sampled_from((0, 0, 0, 1, 2, -1))),
                min_da=draw(st.sampled_from((60, 60, 0, 100))),
                max_da=draw(
                    st.one_of(st.none(), st.none(), st.sampled_from((100, 160, 320)))
                    if crowded
                    else st.one_of(st.none(), st.integers(0, 400))
                ),
                vehicle_phases=draw(st.sampled_from((None, None, 1, 2, 3))),
                draw_da=draw(st.one_of(st.none(), st.integers(0, 320))),
                starts_at=None if starts_in is None else NOW + timedelta(seconds=starts_in),
            )
        )
        if with_state and draw(st.booleans()):
            changed = draw(st.one_of(st.none(), st.integers(0, 600), st.sampled_from((59, 60))))
            previous = st.sampled_from((0, 60, 100, 160, 320))
            state[evse.id] = EvseState(
                limit_da=draw(st.one_of(previous, previous, st.integers(0, 400))),
                changed_at=None if changed is None else NOW - timedelta(seconds=changed),
                # Around the end of a 15-minute turn, or anywhere in the last hour.
                since=NOW
                - timedelta(minutes=draw(st.sampled_from((14, 15, 16)) | st.integers(0, 60))),
            )
    if crowded and draw(st.booleans()):
        # Ties: most nodes get exactly ``level`` (or ``level`` + 0.5) dA per EVSE below them on
        # each line, so that a node and its ancestors tend to fill at the same level.
        level = draw(st.sampled_from((70, 75, 80, 95, 100, 110)))
        half = draw(st.booleans())  # level + 0.5 dA where an even number of EVSEs is below
        below = dict.fromkeys((node.id for node in nodes), 0)
        parents = {node.id: node.parent for node in nodes}
        for evse in evses:
            holder = evse.node
            while holder is not None:
                below[holder] += 1
                holder = parents[holder]
        nodes = [
            replace(
                node,
                limit_da=(level * below[node.id] + (below[node.id] // 2 if half else 0),) * 3,
                limit_w=None,
                load_da=(0, 0, 0),
            )
            if below[node.id] and draw(st.integers(0, 3))
            else node
            for node in nodes
        ]
    return Snapshot(
        tuple(nodes),
        tuple(evses),
        tuple(sessions),
        NOW,
        state,
        Policy(share_remainder=remainder),
    )
