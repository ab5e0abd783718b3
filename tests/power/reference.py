"""A slow, obviously correct allocation to check ``apps.power.allocation`` against.

Integer progressive filling with every constraint written out: one global level rises; when a
constraint would be exceeded one 0.1 A step higher, everyone rising under it stops there.  It
mirrors the fast module's admission (rank by priority, then start) and priority tiers, and
knows nothing of hysteresis or rotation (tests give it snapshots without state).
"""

from __future__ import annotations

from fractions import Fraction

from apps.power.allocation import Snapshot

LINES = 3


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


def constraints_of(snapshot: Snapshot):
    """[(node_id, k, capacity left after fixed load, {evse: coefficient})]."""
    nodes = snapshot.nodes
    fixed = {(node.id, k): 0 for node in nodes for k in range(4)}
    for node in nodes:
        for holder in ancestors(nodes, node.id):
            for k in range(LINES):
                fixed[(holder, k)] += node.load_da[k]
            fixed[(holder, 3)] += node.load_w * 10
    sessions = {session.evse: session for session in snapshot.sessions}
    members = {(node.id, k): {} for node in nodes for k in range(4)}
    for evse in snapshot.evses:
        session = sessions.get(evse.id)
        holders = ancestors(nodes, evse.node)
        if not evse.controllable or session is None:
            value = evse.max_da if not evse.controllable else evse.idle_da
            lines, volts = lines_of(evse, None)
            for holder in holders:
                for line in lines:
                    fixed[(holder, line)] += value
                fixed[(holder, 3)] += value * volts
            continue
        lines, volts = lines_of(evse, session.vehicle_phases)
        for holder in holders:
            for line in lines:
                members[(holder, line)][evse.id] = 1
            members[(holder, 3)][evse.id] = volts
    result = []
    for node in nodes:
        limits = [*node.limit_da, None if node.limit_w is None else node.limit_w * 10]
        for k in range(4):
            if limits[k] is not None:
                result.append((node.id, k, limits[k] - fixed[(node.id, k)], members[(node.id, k)]))
    return result


def reference_allocate(snapshot: Snapshot) -> dict[int, int]:
    """EVSE id -> limit (dA) for the EVSEs with a session (no state, no schedules)."""
    constraints = constraints_of(snapshot)
    evses = {evse.id: evse for evse in snapshot.evses}
    minimum, cap, priority = {}, {}, {}
    for session in snapshot.sessions:
        evse = evses[session.evse]
        if not evse.controllable:
            continue
        hardware = evse.max_da if session.max_da is None else min(evse.max_da, session.max_da)
        minimum[evse.id] = max(evse.min_da, session.min_da)
        cap[evse.id] = hardware
        priority[evse.id] = session.priority
    order = sorted(
        (s for s in snapshot.sessions if s.evse in cap),
        key=lambda s: (-s.priority, s.started_at, s.evse),
    )
    alloc = {evse_id: 0 for evse_id in cap}
    for session in order:
        s = session.evse
        if minimum[s] > cap[s] or cap[s] <= 0:
            continue
        fits = all(
            sum(coef * alloc[o] for o, coef in members.items()) + members[s] * minimum[s]
            <= capacity
            for _node, _k, capacity, members in constraints
            if s in members
        )
        if fits:
            alloc[s] = minimum[s]
    for tier in sorted(set(priority.values()), reverse=True):
        floors = {s: alloc[s] for s in alloc if priority[s] == tier and alloc[s] > 0}
        active = {s for s in floors if floors[s] < cap[s]}

        def value(s, level, floors=floors):
            return max(floors[s], min(level, cap[s]))

        def feasible(level, active=active, value=value):
            for _node, _k, capacity, members in constraints:
                if not active & members.keys():
                    continue  # nothing rises here (a node overloaded by fixed load alone)
                used = 0
                for o, coef in members.items():
                    used += coef * (value(o, level) if o in active else alloc[o])
                if used > capacity:
                    return False
            return True

        while active:
            top = max(cap[s] for s in active)
            if feasible(top):
                for s in active:
                    alloc[s] = cap[s]
                break
            low, high = 0, top  # feasible(low), not feasible(high)
            while high - low > 1:
                middle = (low + high) // 2
                if feasible(middle):
                    low = middle
                else:
                    high = middle
            for s in active:
                alloc[s] = value(s, low)
            stop = {s for s in active if alloc[s] >= cap[s]}
            # Of the constraints the next step would break, the first to fill (exactly) binds.
            filling = []
            for _node, _k, capacity, members in constraints:
                if not active & members.keys():
                    continue
                used_low = used_high = 0
                for o, coef in members.items():
                    if o in active:
                        used_low += coef * value(o, low)
                        used_high += coef * value(o, high)
                    else:
                        used_low += coef * alloc[o]
                        used_high += coef * alloc[o]
                if used_high > capacity:
                    at = Fraction(capacity - used_low, used_high - used_low)
                    filling.append((at, members))
            if filling:
                first = min(at for at, _members in filling)
                for at, members in filling:
                    if at == first:
                        stop |= active & members.keys()
            assert stop, "progressive filling made no progress"
            for s in active:
                floors[s] = alloc[s]
            active -= stop
    return alloc
