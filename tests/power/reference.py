"""A slow, obviously correct allocation to check ``apps.power.allocation`` against.

Every constraint (a node's line or power limit) is written out as a capacity and a coefficient
per session, and every rule of the module's docstring is applied in the plainest way, session by
session: admission in rank order (priority, turn, waiting time), integer progressive filling
(one global level rises, found by bisection; when a constraint would be exceeded one 0.1 A step
higher, everyone rising under it stops there), tier by tier, the remainder handed out one step
at a time, then hysteresis.  No classes, no events, no heaps: it is slow, and only meant for
small snapshots.

``reference_result`` gives the whole result (every EVSE's allocation and every node's load);
``reference_allocate`` only the limits of the sessions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from apps.power.allocation import Allocation, NodeLoad, Reason, Result, Snapshot

LINES = 3
POWER = 3


def lines_of(evse, phases):
    legs = evse.legs if not phases else evse.legs[:phases]
    return tuple(sorted({line for leg in legs for line in leg})), evse.volts * len(legs)


def ancestors(nodes, node_id):
    by_id = {node.id: node for node in nodes}
    chain = []
    current = node_id
    while current is not None:
        chain.append(current)
        current = by_id[current].parent
    return chain


@dataclass
class Constraint:
    node: int
    k: int  # 0, 1, 2: a line; 3: power
    capacity: int  # after the load we do not control
    members: dict[int, int] = field(default_factory=dict)  # EVSE id -> dA (or dA x V) per dA


def fixed_loads(snapshot: Snapshot) -> dict[tuple[int, int], int]:
    """(node, k) -> load we do not control: building load, unmanaged EVSEs at their maximum,
    idle EVSEs at their default profile's limit."""
    nodes = snapshot.nodes
    fixed = {(node.id, k): 0 for node in nodes for k in range(4)}
    for node in nodes:
        for holder in ancestors(nodes, node.id):
            for k in range(LINES):
                fixed[(holder, k)] += node.load_da[k]
            fixed[(holder, POWER)] += node.load_w * 10
    with_session = {session.evse for session in snapshot.sessions}
    for evse in snapshot.evses:
        if evse.id in with_session and evse.controllable:
            continue
        value = evse.max_da if not evse.controllable else evse.idle_da
        lines, volts = lines_of(evse, None)
        for holder in ancestors(nodes, evse.node):
            for line in lines:
                fixed[(holder, line)] += value
            fixed[(holder, POWER)] += value * volts
    return fixed


def constraints_of(snapshot: Snapshot, sessions) -> list[Constraint]:
    """Every finite limit of every node, with the sessions (EVSE id -> session) it carries."""
    nodes = snapshot.nodes
    fixed = fixed_loads(snapshot)
    members = {(node.id, k): {} for node in nodes for k in range(4)}
    evses = {evse.id: evse for evse in snapshot.evses}
    for evse_id, session in sessions.items():
        evse = evses[evse_id]
        if not evse.controllable:
            continue
        lines, volts = lines_of(evse, session.vehicle_phases)
        for holder in ancestors(nodes, evse.node):
            for line in lines:
                members[(holder, line)][evse.id] = 1
            members[(holder, POWER)][evse.id] = volts
    result = []
    for node in nodes:
        limits = [*node.limit_da, None if node.limit_w is None else node.limit_w * 10]
        for k in range(4):
            if limits[k] is not None:
                result.append(
                    Constraint(node.id, k, limits[k] - fixed[(node.id, k)], members[(node.id, k)])
                )
    return result


def load(constraint: Constraint, alloc: dict[int, int]) -> int:
    return sum(coef * alloc[o] for o, coef in constraint.members.items())


def reference_result(snapshot: Snapshot) -> Result:
    """The whole allocation, rule by rule."""
    now, policy = snapshot.now, snapshot.policy
    evses = {evse.id: evse for evse in snapshot.evses}
    nodes = snapshot.nodes
    node_of = {evse.id: evse.node for evse in snapshot.evses}
    allocations: dict[int, Allocation] = {}
    # Sessions: unmanaged ones count at their maximum, those scheduled beyond the lookahead get
    # nothing and weigh nothing, those starting within it hold their minimum ("arming").
    sessions = {}
    arming = set()
    for session in snapshot.sessions:
        evse = evses[session.evse]
        if not evse.controllable:
            continue
        if session.starts_at is not None and session.starts_at > now:
            if session.starts_at > now + policy.schedule_lookahead:
                allocations[evse.id] = Allocation(evse.id, 0, Reason.SCHEDULED)
                continue
            arming.add(evse.id)
        sessions[evse.id] = session
    with_session = {session.evse for session in snapshot.sessions}
    for evse in snapshot.evses:
        if not evse.controllable:
            allocations[evse.id] = Allocation(
                evse.id, evse.max_da, Reason.UNMANAGED, None, evse.max_da
            )
        elif evse.id not in with_session:
            allocations[evse.id] = Allocation(
                evse.id, evse.idle_da, Reason.IDLE, None, evse.idle_da
            )
    constraints = constraints_of(snapshot, sessions)
    minimum, hardware, cap = {}, {}, {}
    for s, session in sessions.items():
        evse = evses[s]
        hardware[s] = evse.max_da if session.max_da is None else min(evse.max_da, session.max_da)
        minimum[s] = max(evse.min_da, session.min_da)
        cap[s] = hardware[s]
        previous = snapshot.state.get(s)
        draw = session.draw_da
        # Rule 5: drawing clearly less than offered, it is capped at its draw plus a margin.
        if draw is not None and previous is not None and previous.limit_da > 0:
            if draw + policy.unused_threshold_da <= previous.limit_da:
                rounded = -(-(draw + policy.unused_margin_da) // 10) * 10
                cap[s] = min(max(rounded, minimum[s]), hardware[s])

    # Rules 2 and 3: admission in rank order.
    def rank(s):
        session = sessions[s]
        previous = snapshot.state.get(s)
        powered = previous is not None and previous.limit_da > 0
        if powered and now - previous.since < policy.rotation_interval:
            return (-session.priority, 0, previous.since, session.started_at, s)
        if powered:
            waiting = previous.since + policy.rotation_interval
        elif previous is not None:
            waiting = max(session.started_at, previous.since)
        else:
            waiting = session.started_at
        return (-session.priority, 1, waiting, session.started_at, s)

    alloc = dict.fromkeys(sessions, 0)
    paused: dict[int, int | None] = {}  # EVSE -> the node that had no room
    for s in sessions:
        if cap[s] < minimum[s] or cap[s] <= 0:
            paused[s] = None
    for s in sorted((s for s in sessions if s not in paused), key=rank):
        path = ancestors(nodes, node_of[s])
        full = [
            c
            for c in constraints
            if s in c.members and load(c, alloc) + c.members[s] * minimum[s] > c.capacity
        ]
        if full:
            # The node named: the first full one from the EVSE up (lines before power).
            paused[s] = min(full, key=lambda c, path=path: (path.index(c.node), c.k)).node
        else:
            alloc[s] = minimum[s]

    # Rule 4: progressive filling above the minimums, tier by tier.
    filled = {s for s in sessions if s not in paused and s not in arming}
    limited_by: dict[int, int | None] = {}
    first_gain: dict[int, int] = {}  # node -> highest tier (not the last) that gained under it
    tiers = sorted({sessions[s].priority for s in filled}, reverse=True)
    for tier in tiers:
        members = {s for s in filled if sessions[s].priority == tier}
        floors = {s: alloc[s] for s in members}
        for s in members:
            if floors[s] >= cap[s]:
                limited_by[s] = None
        _fill(
            snapshot,
            constraints,
            {s for s in members if floors[s] < cap[s]},
            alloc,
            floors,
            cap,
            limited_by,
        )
        if tier != tiers[-1]:
            for s in members:
                if alloc[s] > minimum[s]:
                    for node in ancestors(nodes, node_of[s]):
                        first_gain.setdefault(node, tier)

    # The remainder: one 0.1 A step at a time, by priority, node and kind of session.
    if policy.share_remainder:
        _share_remainder(snapshot, constraints, sessions, filled, alloc, cap, minimum, limited_by)

    # Reasons and rule 6 (hysteresis).
    for s, session in sessions.items():
        evse = evses[s]
        if s in arming:
            if s in paused:
                allocations[s] = Allocation(s, 0, Reason.SCHEDULED, paused[s])
            else:
                allocations[s] = Allocation(
                    s, 0, Reason.SCHEDULED, None, 0, minimum[s], session.starts_at
                )
            continue
        value = alloc[s]
        node = None
        if s in paused:
            reason, node = Reason.PAUSED, paused[s]
        elif limited_by[s] is None:
            reason = Reason.MAX if value >= evse.max_da else Reason.VEHICLE
        else:
            node = limited_by[s]
            if value <= minimum[s]:
                reason = Reason.MIN
            elif node in first_gain and first_gain[node] > session.priority:
                reason = Reason.PRIORITY
            else:
                reason = Reason.SHARE
        limit = value
        previous = snapshot.state.get(s)
        if previous is not None and value > previous.limit_da:
            before = previous.limit_da
            holdable = before == 0 or minimum[s] <= before <= hardware[s]
            too_soon = (
                previous.changed_at is not None
                and now - previous.changed_at < policy.raise_interval
            )
            too_small = before > 0 and value - before < policy.hysteresis_da
            if holdable and (too_soon or too_small):
                limit, reason = before, Reason.HOLD
        allocations[s] = Allocation(s, limit, reason, node, value)

    return Result(allocations, _node_loads(snapshot, allocations))


def _fill(snapshot, constraints, active, alloc, floors, cap, limited_by) -> None:
    """Integer progressive filling of the ``active`` sessions from their ``floors``."""
    floors = dict(floors)  # raised as the level rises
    nodes = snapshot.nodes
    node_of = {evse.id: evse.node for evse in snapshot.evses}

    def value(s, level):
        return max(floors[s], min(level, cap[s]))

    def used(c, level):
        return sum(
            coef * (value(o, level) if o in active else alloc[o]) for o, coef in c.members.items()
        )

    def feasible(level):
        # A node overloaded by fixed load alone, with nothing rising under it, does not count.
        return all(used(c, level) <= c.capacity for c in constraints if active & c.members.keys())

    while active:
        top = max(cap[s] for s in active)
        if feasible(top):
            for s in active:
                alloc[s] = cap[s]
                limited_by[s] = None
            return
        low, high = 0, top  # feasible(low), not feasible(high)
        while high - low > 1:
            middle = (low + high) // 2
            if feasible(middle):
                low = middle
            else:
                high = middle
        for s in active:
            alloc[s] = value(s, low)
        # Of the constraints the next step would break, the first to fill (exactly) binds.
        filling = []
        for c in constraints:
            if active & c.members.keys():
                at_low, at_high = used(c, low), used(c, high)
                if at_high > c.capacity:
                    filling.append((Fraction(c.capacity - at_low, at_high - at_low), c))
        first = min(at for at, _c in filling)
        binding = [c for at, c in filling if at == first]
        at_cap = {s for s in active if alloc[s] >= cap[s]}
        held = {s for c in binding for s in active & c.members.keys()} - at_cap
        limiting = _limiting_nodes(nodes, node_of, binding, active, floors, cap, low, first == 0)
        full_nodes = {c.node for c in binding}
        for s in at_cap:
            limited_by[s] = None
        for s in held:
            path = ancestors(nodes, node_of[s])
            named = [node for node in path if node in limiting]
            limited_by[s] = (
                named[-1] if named else [node for node in path if node in full_nodes][-1]
            )
        assert at_cap | held, "progressive filling made no progress"
        for s in active:
            floors[s] = alloc[s]
        active -= at_cap | held


def _limiting_nodes(nodes, node_of, binding, active, floors, cap, low, whole) -> set[int]:
    """Of several nodes full at the same level, those named as limiting their sessions: a node
    is not, when a lower node's full constraint holds its sessions too -- unless the level is a
    whole step and the node has sessions of its own rising to it."""
    full_nodes = {c.node for c in binding}
    if len(full_nodes) == 1:
        return full_nodes
    limiting = set()
    for c in binding:
        own = shared = False
        for s in active & c.members.keys():
            if floors[s] > low or cap[s] <= low:
                continue
            path = ancestors(nodes, node_of[s])
            below = path[: path.index(c.node)]
            if any(o.node in below and s in o.members for o in binding):
                shared = True
            else:
                own = True
        if not shared or (whole and own):
            limiting.add(c.node)
    return limiting


def _share_remainder(snapshot, constraints, sessions, filled, alloc, cap, minimum, limited_by):
    """The 0.1 A steps a fair level leaves on a full node: kinds of sessions in order (priority,
    node, minimum, cap, wiring, volts), round after round, one step per session in EVSE order
    while every constraint above it has room; a kind whose sessions do not all get a step in a
    round gets no more."""
    evses = {evse.id: evse for evse in snapshot.evses}

    def kind(s):
        lines, volts = lines_of(evses[s], sessions[s].vehicle_phases)
        wiring = sum(1 << line for line in lines)  # the module's order of wirings
        return (-sessions[s].priority, evses[s].node, minimum[s], cap[s], wiring, volts)

    kinds: dict[tuple, list[int]] = {}
    for s in sorted(filled):
        if limited_by[s] is not None and alloc[s] < cap[s]:
            kinds.setdefault(kind(s), []).append(s)
    pending = [kinds[key] for key in sorted(kinds)]
    while pending:
        again = []
        for members in pending:
            if any(alloc[s] >= cap[s] for s in members):
                continue
            for s in members:
                if any(
                    load(c, alloc) + c.members[s] > c.capacity
                    for c in constraints
                    if s in c.members
                ):
                    break
                alloc[s] += 1
            else:
                again.append(members)
        pending = again


def _node_loads(snapshot: Snapshot, allocations) -> dict[int, NodeLoad]:
    nodes = snapshot.nodes
    sessions = {session.evse: session for session in snapshot.sessions}
    base = {node.id: [0, 0, 0, 0] for node in nodes}
    applied = {node.id: [0, 0, 0, 0] for node in nodes}
    drawn = {node.id: [0, 0, 0] for node in nodes}
    for node in nodes:
        for holder in ancestors(nodes, node.id):
            for k in range(LINES):
                base[holder][k] += node.load_da[k]
            base[holder][POWER] += node.load_w * 10
    for evse in snapshot.evses:
        session = sessions.get(evse.id)
        allocation = allocations[evse.id]
        phases = session.vehicle_phases if session is not None and evse.controllable else None
        lines, volts = lines_of(evse, phases)
        value = allocation.limit_da + allocation.scheduled_da
        for holder in ancestors(nodes, evse.node):
            for line in lines:
                applied[holder][line] += value
                if session is not None and session.draw_da:
                    drawn[holder][line] += session.draw_da
            applied[holder][POWER] += value * volts

    def watts(power):
        return -(-power // 10)

    return {
        node.id: NodeLoad(
            node.id,
            node.limit_da,
            node.limit_w,
            tuple(base[node.id][:3]),
            watts(base[node.id][POWER]),
            tuple(applied[node.id][:3]),
            watts(applied[node.id][POWER]),
            tuple(drawn[node.id]),
        )
        for node in nodes
    }


def reference_allocate(snapshot: Snapshot) -> dict[int, int]:
    """EVSE id -> limit (dA) for the EVSEs with a session on a controllable EVSE."""
    result = reference_result(snapshot)
    evses = {evse.id: evse for evse in snapshot.evses}
    return {
        session.evse: result.allocations[session.evse].limit_da
        for session in snapshot.sessions
        if evses[session.evse].controllable
    }
