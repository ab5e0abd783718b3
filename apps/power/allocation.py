"""Power allocation: a pure, deterministic function from a snapshot of one site's electrical tree
and its charging sessions to a current limit per EVSE.

No database, no clock, no I/O: the caller (``services.site_rebalance``) builds a ``Snapshot``
(limits *now*, building load already resolved) and pushes what ``allocate`` returns.

Units.  Currents are integer **deciamps** (dA, 0.1 A): OCPP 1.6 only accepts limits that are
multiples of 0.1 A, integer arithmetic is exact and deterministic, and it is fast.  A node's
power limit is in W; internally power is counted in dA x V (= 10 x W) so that it stays integer.

Phases.  The site has three grid lines (0, 1, 2 = L1, L2, L3).  Each EVSE says which grid lines
each of *its own* phases loads (``legs``): a three-phase EVSE wired with rotation RST has legs
``((0,), (1,), (2,))``, one wired STR has ``((1,), (2,), (0,))``, a single-phase EVSE on L2 has
``((1,),)`` and a North-American 208/240 V EVSE between L1 and L2 has ``((0, 1),)``.  A limit in
amps is per phase, so an EVSE allocated ``c`` dA draws ``c`` on every line of the legs its vehicle
uses, and ``c x volts`` per leg of power.  A single-phase vehicle on a three-phase EVSE draws on
the EVSE's first phase only (``Session.vehicle_phases = 1``): the other lines stay free for others.

The rules, in order (docs/power.md has a worked example):

1. **Never exceed a node**, on any line, nor its power limit.  Load we do not control counts
   first: the non-EV load on each node, EVSEs we cannot reach (assumed at their maximum) and the
   current idle EVSEs may draw under their default profile.
2. **At least the minimum or nothing.**  IEC 61851 has no pilot signal below 6 A, so a session
   gets at least its minimum or 0 (paused).  Sessions are admitted in rank order -- priority,
   then whoever has waited longest -- as long as their minimum fits on every node above them.
3. **Rotation.**  A powered session keeps its place for ``rotation_interval``; after that, paused
   sessions that have waited longer go first, so nobody waits forever.
4. **Equal share, then priority.**  Above the minimums, the highest priority tier is filled first
   by progressive filling (max-min fairness): everyone's limit rises together until a node is
   full or the session has all it can use; the next tier shares what is left.
5. **Unused capacity is redistributed.**  A vehicle that draws clearly less than it was offered
   is capped near what it draws, and the difference goes to the others.
6. **No flapping.**  Reductions apply at once (safety); raises smaller than ``hysteresis_da`` or
   sooner than ``raise_interval`` after the EVSE's last change are held back.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from heapq import heapify, heappop, heappush
from typing import Final, NamedTuple

# ``Final``: the compiled module (mypyc, see bin/_bootstrap) inlines these constants.
LINES: Final = 3
POWER: Final = 3  # constraint index (and bit) of a node's power limit, after the three lines
POWER_BIT: Final = 1 << POWER
# "No limit": far above any sum of real currents, and below 2**62 so that it stays a machine
# integer in the compiled module (mypyc boxes larger ones).
INF: Final = 1 << 60
NO_LIMIT: Final = (INF, 1)  # an exact level (numerator, denominator) that is never reached


class Reason(StrEnum):
    """Why an EVSE got its limit (shown on the live allocation page)."""

    PAUSED = "paused"  # its minimum does not fit now; it waits for its turn
    MIN = "min"  # the node that limits it is full at minimums
    SHARE = "share"  # its equal share of the node that limits it
    PRIORITY = "priority"  # higher-priority sessions took the rest of that node
    MAX = "max"  # everything its hardware (or power selection) allows
    VEHICLE = "vehicle"  # what its vehicle uses (or accepts); the rest went to others
    HOLD = "hold"  # a raise is held back (hysteresis, minimum interval between raises)
    SCHEDULED = "scheduled"  # waiting for its scheduled start
    UNMANAGED = "unmanaged"  # station does not take profiles now: assumed at its maximum
    IDLE = "idle"  # no session: what its default profile lets a new session draw


@dataclass(frozen=True, slots=True)
class Node:
    """A point of the electrical tree with a limit: site supply, panel, sub-panel, circuit.

    ``limit_da`` is per grid line (``None``: no limit on that line; 0: no conductor).
    ``load_da`` / ``load_w`` is what this node itself carries that we do not control (the
    building's other loads measured or scheduled here); it also weighs on every ancestor.
    """

    id: int
    parent: int | None = None
    limit_da: tuple[int | None, int | None, int | None] = (None, None, None)
    limit_w: int | None = None
    load_da: tuple[int, int, int] = (0, 0, 0)
    load_w: int = 0


@dataclass(frozen=True, slots=True)
class Evse:
    id: int
    node: int
    legs: tuple[tuple[int, ...], ...] = ((0,), (1,), (2,))
    volts: int = 230  # voltage across each leg: W per A per leg
    min_da: int = 60
    max_da: int = 320  # hardware maximum, already lowered by power selection
    idle_da: int = 0  # limit of its default profile: what a new session draws before we act
    controllable: bool = True  # False: offline or not taking profiles, assumed at ``max_da``


@dataclass(frozen=True, slots=True)
class Session:
    evse: int
    started_at: datetime
    priority: int = 0
    min_da: int = 60  # the least the vehicle needs to keep charging
    max_da: int | None = None  # the vehicle's (or driver's) own cap, when known
    vehicle_phases: int | None = None  # how many of the EVSE's phases the vehicle uses
    draw_da: int | None = None  # highest per-phase current drawn since the last change
    starts_at: datetime | None = None  # scheduled charging: no current before this


@dataclass(frozen=True, slots=True)
class EvseState:
    """What the previous allocation left on an EVSE (the memory of hysteresis and rotation)."""

    limit_da: int  # the limit the station applies now
    changed_at: datetime | None  # when that limit last changed (None: not in this session)
    since: datetime  # when the EVSE was last switched between powered (> 0) and paused (0)


@dataclass(frozen=True, slots=True)
class Policy:
    hysteresis_da: int = 10
    raise_interval: timedelta = timedelta(seconds=60)
    rotation_interval: timedelta = timedelta(minutes=15)
    unused_threshold_da: int = 30  # drawing this much below the offer counts as "not using it"
    unused_margin_da: int = 20  # ... then it keeps what it draws plus this margin
    schedule_lookahead: timedelta = timedelta(minutes=2)
    share_remainder: bool = True  # hand out the last 0.1 A steps a fair level leaves over


@dataclass(frozen=True, slots=True)
class Snapshot:
    nodes: tuple[Node, ...]
    evses: tuple[Evse, ...]
    sessions: tuple[Session, ...]
    now: datetime
    state: Mapping[int, EvseState] = field(default_factory=dict)
    policy: Policy = Policy()


class Allocation(NamedTuple):
    evse: int
    limit_da: int  # what to apply now
    reason: Reason
    node: int | None = None  # the node that limited it (share, min, priority, paused)
    target_da: int = 0  # the fair limit before hysteresis (differs from limit_da on HOLD)
    scheduled_da: int = 0  # for SCHEDULED: the limit reserved from ``scheduled_at`` on
    scheduled_at: datetime | None = None


class NodeLoad(NamedTuple):
    """A node after allocation: its limits, what is allocated under it and what is drawn."""

    node: int
    limit_da: tuple[int | None, int | None, int | None]
    limit_w: int | None
    base_da: tuple[int, int, int]  # load we do not control (the subtree's building load)
    base_w: int
    allocated_da: tuple[int, int, int]  # EVSE limits (incl. unmanaged and idle reserves)
    allocated_w: int
    drawn_da: tuple[int, int, int]  # what the sessions under it were measured drawing

    def headroom_da(self) -> tuple[int | None, int | None, int | None]:
        return tuple(  # type: ignore[return-value]
            None if limit is None else limit - base - allocated
            for limit, base, allocated in zip(
                self.limit_da, self.base_da, self.allocated_da, strict=True
            )
        )


@dataclass(frozen=True, slots=True)
class Result:
    allocations: dict[int, Allocation]
    nodes: dict[int, NodeLoad]


class SnapshotError(ValueError):
    """The snapshot does not describe a tree (unknown parent, cycle, unknown EVSE...)."""


# --- The fill engine ------------------------------------------------------------------------
# Progressive filling over a laminar family (the tree) of constraints: each node has up to four
# (three lines, one power).  One level rises for everyone; the constraint that fills first (at
# an exact rational level) stops the sessions it carries at that level rounded down to 0.1 A,
# and the others rise on -- as the slow reference (tests/power/reference.py) does, event by
# event instead of by bisection.  Sessions are aggregated into classes (node, tier, minimum,
# cap, lines, volts) so that the cost grows with kinds of sessions, not with their number.


@dataclass(slots=True)
class _Tree:
    ids: list[int]
    parent: list[int]  # -1 for a root
    order: list[int]  # parents before children
    path: list[tuple[int, ...]]  # node, its parent, ... root
    capacity: list[list[int]]  # per node: three lines and power (dA x V), INF for none


def _build_tree(nodes: Iterable[Node]) -> tuple[_Tree, dict[int, int]]:
    nodes = list(nodes)
    index = {}
    for i, node in enumerate(nodes):
        if node.id in index:
            raise SnapshotError(f"Node {node.id} appears twice")
        index[node.id] = i
    parent = []
    children: list[list[int]] = [[] for _ in nodes]
    roots = []
    for i, node in enumerate(nodes):
        if node.parent is None:
            parent.append(-1)
            roots.append(i)
            continue
        if node.parent not in index:
            raise SnapshotError(f"Node {node.id} has an unknown parent {node.parent}")
        parent.append(index[node.parent])
        children[index[node.parent]].append(i)
    order = []
    stack = list(reversed(roots))
    while stack:
        i = stack.pop()
        order.append(i)
        stack.extend(reversed(children[i]))
    if len(order) != len(nodes):
        raise SnapshotError("The nodes form a cycle")
    path: list[tuple[int, ...]] = [()] * len(nodes)
    for i in order:
        path[i] = (i,) + (path[parent[i]] if parent[i] >= 0 else ())
    capacity = []
    for node in nodes:
        lines = [INF if limit is None else limit for limit in node.limit_da]
        lines.append(INF if node.limit_w is None else node.limit_w * 10)
        capacity.append(lines)
    return _Tree([n.id for n in nodes], parent, order, path, capacity), index


def _level(
    j: int,
    room: int,
    used: list[int],
    at: list[int],
    slope: list[int],
    cursor: list[int],
    keys: list[int],
    delta: list[int],
    span: int,
) -> tuple[int, int]:
    """The exact level (num, den) at which constraint j of ``_fill`` fills (``room``: its room,
    ``keys``: its breakpoints sorted, each ``level x span + entry``, ``delta[entry]``: the change
    of slope there); sweeps on from ``at``, one level (all its entries) at a time."""
    u, x, m, p = used[j], at[j], slope[j], cursor[j]
    n = len(keys)
    result = NO_LIMIT
    while p < n:
        key = keys[p]
        v = key // span
        if m:
            reach = u + m * (v - x)
            if reach > room:
                result = (x * m + room - u, m)
                break
            u = reach
        x = v
        m = m + delta[key - v * span]
        p += 1
        while p < n:
            key = keys[p]
            if key // span != v:
                break
            m = m + delta[key - v * span]
            p += 1
    else:
        if m > 0:
            result = (x * m + room - u, m)
    used[j], at[j], slope[j], cursor[j] = u, x, m, p
    return result


def _build(
    j: int,
    members: list[int],
    pair_of: list[list[int]],
    first: list[int],
    alloc: list[int],
    cap_of: list[int],
    frozen: list[bool],
    delta: list[int],
    span: int,
    used: list[int],
    slope: list[int],
) -> list[int]:
    """Set constraint j of ``_fill`` up for its sweep from level 0 (``used``, ``slope`` and the
    ``delta`` of its entries); returns its breakpoints, sorted.  A stopped class is a constant
    load."""
    row: list[int] = []
    load = 0
    rate = 0
    for c in members:
        mine = pair_of[c]
        t = 0
        while mine[t] != j:
            t = t + 2
        weight = mine[t + 1]
        if frozen[c]:
            load = load + alloc[c] * weight
            continue
        floor = alloc[c]
        e = first[c] + t
        load = load + floor * weight
        if floor > 0:
            delta[e] = weight
            row.append(floor * span + e)
        else:
            rate = rate + weight
        delta[e + 1] = -weight
        row.append(cap_of[c] * span + e + 1)
    row.sort()
    used[j] = load
    slope[j] = rate
    return row


def _fill(
    tree: _Tree,
    classes: _Classes,
    rising: list[int],
    alloc: list[int],
    room: list[list[int]],
    limited_by: list[int],
) -> None:
    """Raise the ``rising`` classes (from ``alloc``) by progressive filling within ``room``
    (room left on each node by everything else, the rising classes' floors excepted); writes
    ``alloc`` and ``limited_by`` (the node that holds each class back, -1 when it reached its
    cap).

    One global level rises through events: the constraint (a node's line or power) that fills
    first, at an exact rational level, freezes the sessions it carries at that level rounded
    down to 0.1 A (with every constraint that fills at exactly the same level); the others rise
    on from there.  Each constraint keeps its load as a piecewise-linear function of the level,
    swept once from below: (where it stands, load there, slope, next breakpoint).  A frozen
    session only lowers the load of the other constraints above it, so a constraint's last
    computed fill level is a lower bound of its true one: it is recomputed lazily, only when it
    reaches the top of the heap (it sweeps on from where it stood).  A constraint is only built
    (its breakpoints sorted) when a cheap lower bound of its fill level reaches the top: most
    never bind, as their sessions stop on another constraint first."""
    n_nodes = len(tree.ids)
    mask_of = classes.mask
    volts_of = classes.volts
    cap_of = classes.cap
    count_of = classes.count
    class_leaf = classes.leaf
    path_of = tree.path
    # Per node, flat (12 per node), summed over the rising classes under it: per constraint k
    # (three lines, power) at 12 i + k their load at their caps, at 12 i + 4 + k their weight,
    # at 12 i + 8 + k the load of their floors.
    acc = [0] * (12 * n_nodes)
    highest = 0  # the highest floor
    for c in rising:
        base = 12 * class_leaf[c]
        mask = mask_of[c]
        count = count_of[c]
        floor = alloc[c]
        high = cap_of[c] * count
        low = floor * count
        if mask & 1:
            acc[base] = acc[base] + high
            acc[base + 4] = acc[base + 4] + count
            acc[base + 8] = acc[base + 8] + low
        if mask & 2:
            acc[base + 1] = acc[base + 1] + high
            acc[base + 5] = acc[base + 5] + count
            acc[base + 9] = acc[base + 9] + low
        if mask & 4:
            acc[base + 2] = acc[base + 2] + high
            acc[base + 6] = acc[base + 6] + count
            acc[base + 10] = acc[base + 10] + low
        volts = volts_of[c]
        acc[base + 3] = acc[base + 3] + high * volts
        acc[base + 7] = acc[base + 7] + count * volts
        acc[base + 11] = acc[base + 11] + low * volts
        if floor > highest:
            highest = floor
    parent = tree.parent
    for i in reversed(tree.order):
        up = parent[i]
        if up >= 0:
            here = 12 * i
            above = 12 * up
            for k in range(12):
                acc[above + k] = acc[above + k] + acc[here + k]
    # The constraints that can bind: where the rising classes at their caps do not fit in the
    # room (``room`` plus their floors: the fill counts them itself).  A constraint is built
    # lazily (most never bind: their sessions stop on another first).  Until then a lower bound
    # of its fill level stands for it in the heap: with ``rate`` its rising weight, ``load``
    # their floors' load and ``highest`` the highest floor, its load at a level x is at most
    # rate x x from x = highest on, and load + rate x x below.  Stopping a class only lowers a
    # load, so the bound stays a bound.
    short = [-1] * (4 * n_nodes)  # constraint (4 x node + k) -> its index j, or -1
    c_node: list[int] = []
    c_room: list[int] = []
    heap: list[tuple[float, int]] = []  # (a lower bound of its fill level, constraint)
    only_floors: list[int] = []
    for i in range(n_nodes):
        row = room[i]
        base = 12 * i
        for k in range(4):
            free = row[k]
            if free >= INF:
                continue
            load = acc[base + 8 + k]
            free = free + load
            if acc[base + k] <= free:
                continue
            j = len(c_node)
            short[4 * i + k] = j
            c_node.append(i)
            c_room.append(free)
            rate = acc[base + 4 + k]
            if load > free:
                only_floors.append(j)  # cannot happen after admission, but stay safe
            elif rate <= 0:
                pass  # no rising load (zero volts): it never fills
            elif free >= rate * highest:
                heap.append((free / rate, j))
            else:
                heap.append(((free - load) / rate, j))
    n_short = len(c_node)
    if not n_short:
        for c in rising:
            alloc[c] = cap_of[c]
            limited_by[c] = -1
        return
    # Per constraint: its rising classes and, per class (rising ones only), its constraints and
    # their weights, flat: j, weight, j, ...
    members: list[list[int]] = [[] for _ in range(n_short)]
    none: list[int] = []
    pair_of: list[list[int]] = [none] * len(alloc)
    first = [0] * len(alloc)
    lines_of = LINES_OF_MASK
    span = 0
    for c in rising:
        count = count_of[c]
        lines = lines_of[mask_of[c]]
        power = count * volts_of[c]
        mine: list[int] = []
        pair_of[c] = mine
        for i in path_of[class_leaf[c]]:
            base = 4 * i
            for k in lines:
                j = short[base + k]
                if j >= 0:
                    mine.append(j)
                    mine.append(count)
                    members[j].append(c)
            j = short[base + POWER]
            if j >= 0:
                mine.append(j)
                mine.append(power)
                members[j].append(c)
        first[c] = span
        span = span + len(mine)
    span = span + 1
    # A built constraint keeps the load at ``at`` and the slope just above it, its breakpoints
    # (sorted flat integers: level x span + entry, where ``delta[entry]`` is the change of slope;
    # a class's two entries on each of its constraints, its floor's and its cap's, follow each
    # other from ``first[c]``) and how far the sweep went.
    built = [False] * n_short
    used = [0] * n_short
    slope = [0] * n_short
    at = [0] * n_short
    keys: list[list[int]] = [none] * n_short
    delta = [0] * span
    cursor = [0] * n_short
    alive = [len(m) for m in members]  # rising classes per constraint
    dirty = [False] * n_short

    exact: list[tuple[int, int]] = [NO_LIMIT] * n_short
    frozen = [False] * len(alloc)
    for j in only_floors:
        keys[j] = _build(
            j, members[j], pair_of, first, alloc, cap_of, frozen, delta, span, used, slope
        )
        built[j] = True
        exact[j] = (0, 1)
        heap.append((0.0, j))
    heapify(heap)
    # Pop heads: a constraint whose bound reached the top is built, one whose level is stale is
    # recomputed (both go back in the heap); the first current one sets ``limit``, and every
    # current one within rounding of it is a candidate; then the event.
    candidates: list[int] = []
    limit = 0.0
    while heap or candidates:
        if heap and (not candidates or heap[0][0] <= limit):
            top, j = heappop(heap)
            if not alive[j]:
                continue
            if not built[j]:
                keys[j] = _build(
                    j, members[j], pair_of, first, alloc, cap_of, frozen, delta, span, used, slope
                )
                built[j] = True
                dirty[j] = True
            if dirty[j]:
                dirty[j] = False
                lv = exact[j] = _level(j, c_room[j], used, at, slope, cursor, keys[j], delta, span)
                if lv[0] < INF:
                    heappush(heap, (lv[0] / lv[1], j))
                continue
            if not candidates:
                limit = top * (1 + 1e-9) + 1e-9
            candidates.append(j)
            continue
        # The event: the least exact level among the candidates.
        num, den = exact[candidates[0]]
        for o in candidates:
            o_num, o_den = exact[o]
            if o_num * den < num * o_den:
                num, den = o_num, o_den
        binding = []
        for o in candidates:
            o_num, o_den = exact[o]
            if o_num * den == num * o_den:
                binding.append(o)
            else:
                heappush(heap, (o_num / o_den, o))
        lam = num // den
        at_nodes = {c_node[o] for o in binding}
        tied = at_nodes
        single = c_node[binding[0]] if len(at_nodes) == 1 else -1  # the node that limits them
        if single < 0:
            # Nodes that fill at the very same level: which of them limits a session.  A session
            # that a lower node's filling constraint also holds is that node's -- unless the
            # level is whole and the node above has sessions of its own rising to it (then the
            # one above).  At a fractional level, as sessions are held at that level rounded
            # down, a node above that shares them has a little room left: it is not full.
            held: dict[int, list[int]] = {}
            for o in binding:
                for c in members[o]:
                    if not frozen[c]:
                        if c in held:
                            held[c].append(c_node[o])
                        else:
                            held[c] = [c_node[o]]
            whole = lam * den == num
            tied = set()
            for o in binding:
                top_node = c_node[o]
                own = shared = False
                for c in members[o]:
                    if frozen[c] or alloc[c] > lam or cap_of[c] <= lam:
                        continue
                    path = path_of[class_leaf[c]]
                    lower = path[: path.index(top_node)]
                    if any(i in lower for i in held[c]):
                        shared = True
                    else:
                        own = True
                if not shared or (whole and own):
                    tied.add(top_node)
        for o in binding:
            for c in members[o]:
                if frozen[c]:
                    continue
                frozen[c] = True
                floor, cap = alloc[c], cap_of[c]
                if cap <= lam:
                    value = cap
                    limited_by[c] = -1
                else:
                    value = lam if lam > floor else floor
                    if single >= 0:
                        limited_by[c] = single
                    else:
                        where = fallback = -1
                        for i in path_of[class_leaf[c]]:
                            if i in tied:
                                where = i
                            elif i in at_nodes:
                                fallback = i
                        limited_by[c] = where if where >= 0 else fallback
                alloc[c] = value
                # From now on a constant load on every constraint above it.
                mine = pair_of[c]
                e = first[c]
                for t in range(0, len(mine), 2):
                    q = mine[t]
                    weight = mine[t + 1]
                    alive[q] = alive[q] - 1
                    if not built[q]:
                        continue
                    x = at[q]
                    if x < floor:  # neither breakpoint reached yet: both drop out
                        was = floor
                        delta[e + t] = 0
                        delta[e + t + 1] = 0
                    elif x < cap:
                        was = x
                        slope[q] = slope[q] - weight
                        delta[e + t + 1] = 0
                    else:
                        was = cap
                    used[q] = used[q] + (value - was) * weight
                    dirty[q] = True
        for o in binding:
            alive[o] = 0
        candidates = []
    for c in rising:
        if not frozen[c]:
            alloc[c] = cap_of[c]
            limited_by[c] = -1


# --- allocate -------------------------------------------------------------------------------

LINES_OF_MASK: Final = tuple(
    tuple(line for line in range(LINES) if mask >> line & 1) for mask in range(1 << LINES)
)


@dataclass(slots=True)
class _Classes:
    """Sessions that are interchangeable for the fill -- same node, tier, minimum, cap, lines and
    volts -- as parallel arrays: the fill's cost grows with kinds of sessions, not their number."""

    leaf: list[int] = field(default_factory=list)
    mask: list[int] = field(default_factory=list)
    volts: list[int] = field(default_factory=list)
    cap: list[int] = field(default_factory=list)
    count: list[int] = field(default_factory=list)
    tier: list[int] = field(default_factory=list)
    minimum: list[int] = field(default_factory=list)
    members: list[list[int]] = field(default_factory=list)
    node_id: list[int] = field(default_factory=list)  # for a canonical order of classes

    def add(self, key: tuple[int, int, int, int, int, int], node_id: int) -> None:
        leaf, tier, minimum, cap, mask, volts = key
        self.leaf.append(leaf)
        self.tier.append(tier)
        self.minimum.append(minimum)
        self.cap.append(cap)
        self.mask.append(mask)
        self.volts.append(volts)
        self.count.append(0)
        self.members.append([])
        self.node_id.append(node_id)


class _Record:
    """One session being allocated (a plain class: compiled, its fields are typed slots).

    cap: what it can use now (hardware, vehicle, observed draw); hardware: the EVSE maximum
    lowered by the vehicle's own cap; maximum: the EVSE's; c, its class, -1: arming (scheduled
    to start soon), holds its minimum only."""

    __slots__ = (
        "evse",
        "leaf",
        "mask",
        "volts",
        "minimum",
        "cap",
        "hardware",
        "maximum",
        "session",
        "previous",
        "c",
    )

    def __init__(
        self,
        evse: int,
        leaf: int,
        mask: int,
        volts: int,
        minimum: int,
        cap: int,
        hardware: int,
        maximum: int,
        session: Session,
        previous: EvseState | None,
        c: int,
    ) -> None:
        self.evse = evse
        self.leaf = leaf
        self.mask = mask
        self.volts = volts
        self.minimum = minimum
        self.cap = cap
        self.hardware = hardware
        self.maximum = maximum
        self.session = session
        self.previous = previous
        self.c = c


def _wire(legs: tuple[tuple[int, ...], ...], phases: int | None) -> tuple[int, int]:
    """(mask of the grid lines loaded, number of legs used) by a vehicle on ``phases`` phases."""
    used = legs[:phases] if phases else legs
    mask = 0
    for leg in used:
        for line in leg:
            if not 0 <= line < LINES:
                raise SnapshotError(f"Grid line {line} does not exist (0, 1 or 2)")
            mask |= 1 << line
    return mask, len(used)


def _rollup(tree: _Tree, rows: list[list[int]]) -> None:
    """Add each node's row into its parent's (bottom-up), in place."""
    parent = tree.parent
    for i in reversed(tree.order):
        up = parent[i]
        if up >= 0:
            row, above = rows[i], rows[up]
            for k in range(len(row)):
                above[k] = above[k] + row[k]


def _add(row: list[int], mask: int, value: int, volts: int) -> None:
    if mask & 1:
        row[0] = row[0] + value
    if mask & 2:
        row[1] = row[1] + value
    if mask & 4:
        row[2] = row[2] + value
    row[POWER] = row[POWER] + value * volts


def _take(room: list[list[int]], used: list[list[int]]) -> None:
    """room -= used, where room is finite."""
    for row, spent in zip(room, used, strict=True):
        for k in range(4):
            if row[k] < INF:
                row[k] = row[k] - spent[k]


def allocate(snapshot: Snapshot) -> Result:
    """A limit for every EVSE of the snapshot.  Deterministic: the same snapshot, in whatever
    order its tuples list nodes, EVSEs and sessions, gives the same result."""
    # The cyclic garbage collector is paused while allocating.  A run creates tens of thousands
    # of short-lived objects (records, rows, tuples, one ``Allocation`` per EVSE), none of them
    # in a reference cycle, so reference counting alone frees them; but each 700 allocations
    # trigger a young-generation pass, and the older generations' passes traverse the whole
    # snapshot that is alive meanwhile: 4-5 ms of a 10,000-EVSE run went to collections that
    # found nothing.  The previous state is restored (even on an error), so a caller that
    # disabled the collector itself keeps it disabled.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _allocate(snapshot)
    finally:
        if enabled:
            gc.enable()


def _allocate(snapshot: Snapshot) -> Result:
    # Hot path (10,000 EVSEs per call): locals instead of attribute look-ups, one record per
    # session instead of parallel lists, results built with tuple.__new__ (a NamedTuple's own
    # constructor is a Python function).
    new = tuple.__new__
    policy = snapshot.policy
    now = snapshot.now
    tree, node_index = _build_tree(snapshot.nodes)
    n_nodes = len(tree.ids)
    base = [[*node.load_da, node.load_w * 10] for node in snapshot.nodes]
    reserved = [[0, 0, 0, 0] for _ in range(n_nodes)]  # unmanaged EVSEs and idle defaults
    drawn = [[0, 0, 0] for _ in range(n_nodes)]
    evses = snapshot.evses
    position = {evse.id: p for p, evse in enumerate(evses)}
    if len(position) != len(evses):
        raise SnapshotError("An EVSE appears twice")
    allocations: dict[int, Allocation] = {}
    # (mask, legs used) per wiring: for all the EVSE's phases by the identity of its ``legs``
    # (alive in the snapshot meanwhile; hashing nested tuples costs more), else by value.
    wiring_of: dict[int, tuple[int, int]] = {}
    wiring: dict[tuple, tuple[int, int]] = {}

    records: list[_Record] = []  # one per session, indexed by ``s``
    classes = _Classes()
    class_of: dict[object, int] = {}
    c_count = classes.count
    c_members = classes.members
    node_ids = tree.ids
    taken = [False] * len(evses)  # per EVSE (by position): it has a session
    unmanaged: list[Evse] = []  # uncontrollable EVSEs with a session: counted at their maximum
    lookahead_end = now + policy.schedule_lookahead
    # A dict's own ``get`` (compiled: a direct call, not a method looked up on a Mapping).
    state: dict[int, EvseState] = (
        snapshot.state if isinstance(snapshot.state, dict) else dict(snapshot.state)
    )
    threshold = policy.unused_threshold_da
    margin = policy.unused_margin_da
    scheduled = Reason.SCHEDULED
    for session in snapshot.sessions:
        evse_id = session.evse
        p = position.get(evse_id, -1)
        if p < 0:
            raise SnapshotError(f"A session runs on an unknown EVSE {evse_id}")
        if taken[p]:
            raise SnapshotError(f"Two sessions run on EVSE {evse_id}")
        taken[p] = True
        evse = evses[p]
        leaf = node_index.get(evse.node)
        if leaf is None:
            raise SnapshotError(f"EVSE {evse_id} hangs on an unknown node {evse.node}")
        controllable = evse.controllable
        phases = session.vehicle_phases if controllable else None
        wires = evse.legs
        if phases:
            key = (wires, phases)
            wired = wiring.get(key)
            if wired is None:
                wired = wiring[key] = _wire(wires, phases)
        else:
            wired = wiring_of.get(id(wires))
            if wired is None:
                wired = wiring_of[id(wires)] = _wire(wires, None)
        mask, legs = wired
        draw = session.draw_da
        if draw:
            row = drawn[leaf]
            if mask & 1:
                row[0] = row[0] + draw
            if mask & 2:
                row[1] = row[1] + draw
            if mask & 4:
                row[2] = row[2] + draw
        if not controllable:
            unmanaged.append(evse)
            continue
        starts_at = session.starts_at
        if starts_at is not None and starts_at > now:
            if starts_at > lookahead_end:
                allocations[evse_id] = new(Allocation, (evse_id, 0, scheduled, None, 0, 0, None))
                continue
            arming = True
        else:
            arming = False
        hardware = evse.max_da
        vehicle_max = session.max_da
        if vehicle_max is not None and vehicle_max < hardware:
            hardware = vehicle_max
        minimum = evse.min_da
        if session.min_da > minimum:
            minimum = session.min_da
        cap = hardware
        previous = state.get(evse_id)
        if draw is not None and previous is not None:
            before = previous.limit_da
            if before > 0 and draw + threshold <= before:
                # Keep what it draws plus a margin, in whole amps (fewer distinct caps).
                cap = -(-(draw + margin) // 10) * 10
                if cap < minimum:
                    cap = minimum
                if cap > hardware:
                    cap = hardware
        volts = evse.volts * legs
        s = len(records)
        if arming:
            c = -1
        else:
            priority = session.priority
            # The class key packed into one integer when its parts are in range (57 bits:
            # cheaper to make, hash and compare than a tuple), else the tuple itself.
            if (
                leaf < 65536
                and -32 <= priority < 32
                and 0 <= minimum < 1024
                and 0 <= cap < 2048
                and 0 <= volts < 2048
            ):
                class_key: object = (
                    ((((leaf << 6 | priority + 32) << 10 | minimum) << 11 | cap) << 3 | mask) << 11
                ) | volts
            else:
                class_key = (leaf, priority, minimum, cap, mask, volts)
            known = class_of.get(class_key)
            if known is None:
                c = class_of[class_key] = len(c_count)
                classes.add((leaf, priority, minimum, cap, mask, volts), node_ids[leaf])
            else:
                c = known
            c_count[c] = c_count[c] + 1
            c_members[c].append(s)
        records.append(
            _Record(
                evse_id,
                leaf,
                mask,
                volts,
                minimum,
                cap,
                hardware,
                evse.max_da,
                session,
                previous,
                c,
            )
        )
    idle, unmanaged_reason = Reason.IDLE, Reason.UNMANAGED
    rest = [evse for p, evse in enumerate(evses) if not taken[p]]
    rest.extend(unmanaged)
    for evse in rest:
        leaf = node_index.get(evse.node)
        if leaf is None:
            raise SnapshotError(f"EVSE {evse.id} hangs on an unknown node {evse.node}")
        wires = evse.legs
        wired = wiring_of.get(id(wires))
        if wired is None:
            wired = wiring_of[id(wires)] = _wire(wires, None)
        if evse.controllable:
            value, reason = evse.idle_da, idle
        else:
            value, reason = evse.max_da, unmanaged_reason
        if value:
            _add(reserved[leaf], wired[0], value, evse.volts * wired[1])
        allocations[evse.id] = new(Allocation, (evse.id, value, reason, None, value, 0, None))

    fixed = [
        [b + r for b, r in zip(rb, rr, strict=True)] for rb, rr in zip(base, reserved, strict=True)
    ]
    _rollup(tree, fixed)
    avail = [
        [c - f if c < INF else INF for c, f in zip(capacity, load, strict=True)]
        for capacity, load in zip(tree.capacity, fixed, strict=True)
    ]

    paused_at = _admit(tree, records, avail, now, policy)

    # Everyone admitted holds their minimum; what is left is shared, tier by tier.
    room = [row[:] for row in avail]
    used = [[0, 0, 0, 0] for _ in range(n_nodes)]
    for s in paused_at:
        c = records[s].c
        if c >= 0:
            c_count[c] = c_count[c] - 1
            c_members[c].remove(s)
    for s, record in enumerate(records):
        if record.c < 0 and s not in paused_at:  # an arming session holds its minimum
            _add(used[record.leaf], record.mask, record.minimum, record.volts)
    n_classes = len(c_count)
    c_leaf = classes.leaf
    c_mask = classes.mask
    c_volts = classes.volts
    c_min = classes.minimum
    c_cap = classes.cap
    c_tier = classes.tier
    for c in range(n_classes):
        count = c_count[c]
        if count:
            value = c_min[c] * count
            row = used[c_leaf[c]]
            mask = c_mask[c]
            if mask & 1:
                row[0] = row[0] + value
            if mask & 2:
                row[1] = row[1] + value
            if mask & 4:
                row[2] = row[2] + value
            row[POWER] = row[POWER] + value * c_volts[c]
    _rollup(tree, used)
    _take(room, used)

    alloc = c_min[:]
    limited_by = [-1] * n_classes
    tiers = sorted({c_tier[c] for c in range(n_classes) if c_count[c]}, reverse=True)
    first_gain: list[int | None] = [None] * n_nodes  # highest tier that got more than minimums
    path_of = tree.path
    for tier in tiers:
        rising = [
            c for c in range(n_classes) if c_tier[c] == tier and c_cap[c] > alloc[c] and c_count[c]
        ]
        starts = [alloc[c] for c in rising]
        _fill(tree, classes, rising, alloc, room, limited_by)
        gained = [[0, 0, 0, 0] for _ in range(n_nodes)]
        last = tier == tiers[-1]
        for c, start in zip(rising, starts, strict=True):
            extra = (alloc[c] - start) * c_count[c]
            if extra:
                row = gained[c_leaf[c]]
                mask = c_mask[c]
                if mask & 1:
                    row[0] = row[0] + extra
                if mask & 2:
                    row[1] = row[1] + extra
                if mask & 4:
                    row[2] = row[2] + extra
                row[POWER] = row[POWER] + extra * c_volts[c]
                if not last:
                    for i in path_of[c_leaf[c]]:
                        if first_gain[i] is None:
                            first_gain[i] = tier
        _rollup(tree, gained)
        _take(room, gained)

    grant = [0] * n_classes
    if policy.share_remainder and n_classes:
        _share_remainder(tree, classes, alloc, limited_by, room, grant)

    # Per session: the class's level (and its share of the remainder), then hysteresis.
    applied = [row[:4] for row in reserved]  # what the stations will apply, per node
    target = [0] * len(records)
    for c in range(n_classes):
        members = c_members[c]
        if not members:
            continue
        value, extra = alloc[c], grant[c]
        total = value * c_count[c] + extra
        row = applied[c_leaf[c]]
        mask = c_mask[c]
        if mask & 1:
            row[0] = row[0] + total
        if mask & 2:
            row[1] = row[1] + total
        if mask & 4:
            row[2] = row[2] + total
        row[POWER] = row[POWER] + total * c_volts[c]
        if extra:
            members.sort(key=lambda s: records[s].evse)
            whole, part = divmod(extra, len(members))
            for rank, s in enumerate(members):
                target[s] = value + whole + (1 if rank < part else 0)
        else:
            for s in members:
                target[s] = value

    raise_cutoff = now - policy.raise_interval
    hysteresis = policy.hysteresis_da
    ids = tree.ids
    r_paused, r_max, r_vehicle = Reason.PAUSED, Reason.MAX, Reason.VEHICLE
    r_min, r_priority, r_share, r_hold = Reason.MIN, Reason.PRIORITY, Reason.SHARE, Reason.HOLD
    for s, record in enumerate(records):
        evse_id = record.evse
        leaf = record.leaf
        mask = record.mask
        volts = record.volts
        minimum = record.minimum
        hardware = record.hardware
        session = record.session
        previous = record.previous
        c = record.c
        if c < 0:  # scheduled, starting soon
            if s in paused_at:
                where = paused_at[s]
                allocations[evse_id] = new(
                    Allocation,
                    (evse_id, 0, scheduled, ids[where] if where >= 0 else None, 0, 0, None),
                )
            else:
                _add(applied[leaf], mask, minimum, volts)
                allocations[evse_id] = new(
                    Allocation, (evse_id, 0, scheduled, None, 0, minimum, session.starts_at)
                )
            continue
        value = target[s]
        node = None
        if paused_at and s in paused_at:
            reason = r_paused
            where = paused_at[s]
            if where >= 0:
                node = ids[where]
        else:
            where = limited_by[c]
            if where < 0:
                reason = r_max if value >= record.maximum else r_vehicle
            else:
                node = ids[where]
                gain = first_gain[where]
                if value <= minimum:
                    reason = r_min
                elif gain is not None and gain > session.priority:
                    reason = r_priority
                else:
                    reason = r_share
        limit = value
        if previous is not None:
            before = previous.limit_da
            # Hold a raise back, if holding ``before`` is still valid (0, or within range).
            if value > before and (before == 0 or minimum <= before <= hardware):
                changed_at = previous.changed_at
                if (changed_at is not None and changed_at > raise_cutoff) or (
                    before > 0 and value - before < hysteresis
                ):
                    limit = before
                    reason = r_hold
                    _add(applied[leaf], mask, before - value, volts)
        allocations[evse_id] = new(Allocation, (evse_id, limit, reason, node, value, 0, None))

    _rollup(tree, base)
    _rollup(tree, applied)
    _rollup(tree, drawn)
    loads = {}
    for i, spec in enumerate(snapshot.nodes):
        b, a, d = base[i], applied[i], drawn[i]
        loads[spec.id] = NodeLoad(
            spec.id,
            spec.limit_da,
            spec.limit_w,
            (b[0], b[1], b[2]),
            -(-b[POWER] // 10),
            (a[0], a[1], a[2]),
            -(-a[POWER] // 10),
            (d[0], d[1], d[2]),
        )
    return Result(allocations, loads)


def _admit(
    tree: _Tree,
    records: list[_Record],
    avail: list[list[int]],
    now: datetime,
    policy: Policy,
) -> dict[int, int]:
    """Which sessions get power: in rank order, those whose minimum fits on every node above
    them.  Returns the others, each with the node that was full (-1 when the session cannot
    charge at all: its cap is under its minimum)."""
    n_nodes = len(tree.ids)
    paused_at: dict[int, int] = {}
    possible = []
    need = [[0, 0, 0, 0] for _ in range(n_nodes)]
    for s, record in enumerate(records):
        leaf = record.leaf
        mask = record.mask
        volts = record.volts
        minimum = record.minimum
        cap = record.cap
        if cap < minimum or cap <= 0:
            paused_at[s] = -1
            continue
        possible.append(s)
        row = need[leaf]
        if mask & 1:
            row[0] = row[0] + minimum
        if mask & 2:
            row[1] = row[1] + minimum
        if mask & 4:
            row[2] = row[2] + minimum
        row[POWER] = row[POWER] + minimum * volts
    _rollup(tree, need)
    # The constraints (4 x node + k) where the minimums do not all fit: only those can turn a
    # session away (on the others every subset of the minimums fits).
    tight = [False] * (4 * n_nodes)
    any_tight = False
    for i in range(n_nodes):
        wanted, room_i = need[i], avail[i]
        for k in range(4):
            if room_i[k] < INF and wanted[k] > room_i[k]:
                tight[4 * i + k] = True
                any_tight = True
    if not any_tight:
        return paused_at
    # Only sessions under an overloaded node compete; the others all fit.
    none: list[int] = []
    checks: list[list[int]] = [none] * n_nodes  # per leaf: its tight constraints, leaf first
    done = [False] * n_nodes
    path_of = tree.path
    contested = []
    for s in possible:
        leaf = records[s].leaf
        if not done[leaf]:
            done[leaf] = True
            checks[leaf] = [4 * i + k for i in path_of[leaf] for k in range(4) if tight[4 * i + k]]
        if checks[leaf]:
            contested.append(s)
    turn_cutoff = now - policy.rotation_interval
    rotation = policy.rotation_interval
    # Rank: priority; then a powered session still inside its turn; then whoever has waited
    # longest -- a powered session whose turn is over queues from the end of its turn.  The
    # first two in one integer (2 x -priority + 0 or 1): one comparison less per pair sorted.
    ranked: list[tuple[int, datetime, datetime, int, int]] = []
    add = ranked.append
    for s in contested:
        record = records[s]
        session = record.session
        previous = record.previous
        if previous is not None and previous.limit_da > 0:
            since = previous.since
            if since > turn_cutoff:
                add((-2 * session.priority, since, session.started_at, session.evse, s))
                continue
            waiting = since + rotation
        else:
            waiting = session.started_at
            if previous is not None and previous.since > waiting:
                waiting = previous.since
        add((1 - 2 * session.priority, waiting, session.started_at, session.evse, s))
    ranked.sort()
    room = [0] * (4 * n_nodes)
    for i in range(n_nodes):
        row = avail[i]
        for k in range(4):
            room[4 * i + k] = row[k]
    # Per leaf and wiring: the tight constraints a session there loads, in path order (leaf
    # first); each minimum is taken as it is checked, and given back if one does not fit.
    loads: list[list[int] | None] = [None] * (8 * n_nodes)
    for key in ranked:
        s = key[4]
        record = records[s]
        mask = record.mask
        minimum = record.minimum
        power = minimum * record.volts
        slot = 8 * record.leaf + mask
        cons = loads[slot]
        if cons is None:
            cons = loads[slot] = [
                q for q in checks[record.leaf] if q & 3 == POWER or mask >> (q & 3) & 1
            ]
        taken = 0
        for q in cons:
            left = room[q] - (power if q & 3 == POWER else minimum)
            if left < 0:
                for t in range(taken):
                    q2 = cons[t]
                    room[q2] = room[q2] + (power if q2 & 3 == POWER else minimum)
                paused_at[s] = q >> 2
                break
            room[q] = left
            taken = taken + 1
    return paused_at


def _share_remainder(
    tree: _Tree,
    classes: _Classes,
    alloc: list[int],
    limited_by: list[int],
    room: list[list[int]],
    grant: list[int],
) -> None:
    """Hand out the 0.1 A steps that a fair level leaves on a full node: one step per session,
    by priority, node and kind of session, wherever every node above has room.  Writes
    ``grant`` (steps per class; its members get them in EVSE order)."""
    pending = [
        c
        for c in range(len(alloc))
        if limited_by[c] >= 0 and alloc[c] < classes.cap[c] and classes.count[c]
    ]
    # In the order (-tier, node id, minimum, cap, mask, volts): unique per class.  Packed with
    # the class into one integer per class when all fits in 62 bits (the widths from the values
    # at hand; ints compare much faster than tuples; the node's id by its rank among the ids),
    # else by tuples.
    tier_of, min_of, cap_of = classes.tier, classes.minimum, classes.cap
    mask_of, volts_of, leaf_of = classes.mask, classes.volts, classes.leaf
    ids = tree.ids
    n_classes = len(alloc)
    low_tier = high_tier = high_min = high_cap = high_volts = 0
    negative = False
    for c in pending:
        if min_of[c] < 0 or cap_of[c] < 0 or volts_of[c] < 0:
            negative = True
        tier = tier_of[c]
        if tier < low_tier:
            low_tier = tier
        if tier > high_tier:
            high_tier = tier
        if min_of[c] > high_min:
            high_min = min_of[c]
        if cap_of[c] > high_cap:
            high_cap = cap_of[c]
        if volts_of[c] > high_volts:
            high_volts = volts_of[c]
    w_tier = (high_tier - low_tier).bit_length()
    w_rank = len(ids).bit_length()
    w_min = high_min.bit_length()
    w_cap = high_cap.bit_length()
    w_volts = high_volts.bit_length()
    w_class = n_classes.bit_length()
    width = w_tier + w_rank + w_min + w_cap + 3 + w_volts + w_class
    if width <= 62 and not negative:
        rank = [0] * len(ids)
        for r, i in enumerate(sorted(range(len(ids)), key=ids.__getitem__)):
            rank[i] = r
        packed: list[int] = []
        for c in pending:
            key = high_tier - tier_of[c]
            key = key << w_rank | rank[leaf_of[c]]
            key = key << w_min | min_of[c]
            key = key << w_cap | cap_of[c]
            key = key << 3 | mask_of[c]
            key = key << w_volts | volts_of[c]
            packed.append(key << w_class | c)
        packed.sort()
        low_bits = (1 << w_class) - 1
        pending = [key & low_bits for key in packed]
    else:
        pending.sort(
            key=lambda c: (
                -classes.tier[c],
                classes.node_id[c],
                classes.minimum[c],
                classes.cap[c],
                classes.mask[c],
                classes.volts[c],
            )
        )
    path_of = tree.path
    while pending:
        again = []
        for c in pending:
            count = classes.count[c]
            if alloc[c] + grant[c] // count >= classes.cap[c]:
                continue
            lines = LINES_OF_MASK[classes.mask[c]]
            volts = classes.volts[c]
            path = path_of[classes.leaf[c]]
            steps = count
            for i in path:
                row = room[i]
                for line in lines:
                    if row[line] < steps:
                        steps = row[line]
                if row[POWER] < steps * volts:
                    steps = row[POWER] // volts
                if steps <= 0:
                    break
            if steps <= 0:
                continue
            for i in path:
                row = room[i]
                for line in lines:
                    row[line] = row[line] - steps
                row[POWER] = row[POWER] - steps * volts
            grant[c] = grant[c] + steps
            if steps == count:
                again.append(c)  # everyone got a step: there may be room for another
        pending = again
