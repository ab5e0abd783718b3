"""Hypothesis strategies: random electrical trees, EVSEs, sessions and previous state."""

from __future__ import annotations

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
    draw, max_nodes: int = 7, max_evses: int = 14, with_state: bool = False, remainder=True
):
    node_count = draw(st.integers(1, max_nodes))
    nodes = []
    for i in range(node_count):
        parent = None if i == 0 else draw(st.integers(0, i - 1))
        limit = st.one_of(st.none(), st.integers(0, 1200), st.integers(100, 400))
        nodes.append(
            Node(
                id=100 + i,
                parent=None if parent is None else 100 + parent,
                limit_da=(draw(limit), draw(limit), draw(limit)),
                limit_w=draw(st.one_of(st.none(), st.none(), st.integers(0, 150_000))),
                load_da=tuple(draw(st.sampled_from((0, 0, 30, 120))) for _ in range(3)),
                load_w=draw(st.sampled_from((0, 0, 2_000))),
            )
        )
    evses, sessions, state = [], [], {}
    for e in range(draw(st.integers(0, max_evses))):
        minimum = draw(st.sampled_from((60, 60, 60, 80, 10)))
        evse = Evse(
            id=e + 1,
            node=100 + draw(st.integers(0, node_count - 1)),
            legs=draw(st.sampled_from(WIRINGS)),
            volts=draw(st.sampled_from((230, 230, 208, 240))),
            min_da=minimum,
            max_da=draw(st.integers(minimum - 10, 500)),
            idle_da=draw(st.sampled_from((0, 0, 0, 60))),
            controllable=draw(st.booleans()) or draw(st.booleans()),
        )
        evses.append(evse)
        if not draw(st.integers(0, 4)):
            continue
        sessions.append(
            Session(
                evse=evse.id,
                started_at=NOW - timedelta(minutes=draw(st.integers(0, 300))),
                priority=draw(st.sampled_from((0, 0, 0, 1, 2))),
                min_da=draw(st.sampled_from((60, 60, 0, 100))),
                max_da=draw(st.one_of(st.none(), st.integers(0, 400))),
                vehicle_phases=draw(st.sampled_from((None, None, 1, 2, 3))),
                draw_da=draw(st.one_of(st.none(), st.integers(0, 320))),
            )
        )
        if with_state and draw(st.booleans()):
            changed = draw(st.one_of(st.none(), st.integers(0, 600)))
            state[evse.id] = EvseState(
                limit_da=draw(st.sampled_from((0, 60, 100, 160, 320))),
                changed_at=None if changed is None else NOW - timedelta(seconds=changed),
                since=NOW - timedelta(minutes=draw(st.integers(0, 60))),
            )
    return Snapshot(
        tuple(nodes),
        tuple(evses),
        tuple(sessions),
        NOW,
        state,
        Policy(share_remainder=remainder),
    )
