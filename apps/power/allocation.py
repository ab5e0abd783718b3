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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

LINES = 3
POWER = 3  # constraint index (and bit) of a node's power limit, after the three lines
POWER_BIT = 1 << POWER
INF = 1 << 62  # "no limit"; far above any sum of real currents
NO_LIMIT = (INF, 1)  # an exact level (numerator, denominator) that is never reached


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
# (three lines, one power).  Each round works bottom-up: a node's fair *level* is the highest
# common current its rising sessions can reach -- below it, a session gets
# ``clamp(level, floor, cap)`` -- with its subtree's sessions already held at their own nodes'
# levels.  A session whose path minimum comes from a constraint it takes part in (or that hit its
# cap) is frozen; the others (a single-phase session under a node whose *other* line is full) keep
# rising in the next round from where they are.  Sessions are aggregated by
# (floor, cap, lines, volts) so that a node's cost grows with its distinct kinds of sessions, not
# with their number.


def _level(items: list[tuple[int, int, int]], avail: int) -> tuple[int, int]:
    """The exact level L = num / den at which sum(mult * clamp(L, floor, cap)) reaches
    ``avail`` (``NO_LIMIT`` if it never does).  ``items`` are (floor, cap, mult).

    Exact, not rounded: when two constraints fill within the same 0.1 A step, the one that fills
    first must be the one that binds, as in continuous progressive filling."""
    events: list[tuple[int, int]] = []
    base = 0
    for floor, cap, mult in items:
        base += floor * mult
        if cap > floor:
            events.append((floor, mult))
            events.append((cap, -mult))
    if base > avail:
        return 0, 1  # only floors; cannot happen after admission, but stay safe
    events.sort()
    used = base
    slope = 0
    at = 0
    for value, delta in events:
        if slope:
            reach = used + slope * (value - at)
            if reach > avail:
                return at * slope + avail - used, slope
            used = reach
        at = value
        slope += delta
    return NO_LIMIT


def _solve_node(
    items: dict[tuple[int, int, int, int], int], avail: list[int]
) -> tuple[int, int, int]:
    """A node's exact fair level (num, den) and the bits of the constraints that bind there.

    One sweep over the sorted breakpoints of its items serves every short constraint (three
    lines and power) at once: at level L, constraint k carries
    ``sum(weight_k * clamp(L, floor, cap))`` and its level is where that first exceeds its room."""
    a0, a1, a2, a3 = avail
    if a0 >= INF and a1 >= INF and a2 >= INF and a3 >= INF:
        return INF, 1, 0
    if not items:
        return INF, 1, 0
    f0 = f1 = f2 = f3 = 0
    mask_and = 0b111
    mask_or = 0
    for (_floor, cap, mask, volts), count in items.items():
        mask_and &= mask
        mask_or |= mask
        full = cap * count
        if mask & 1:
            f0 += full
        if mask & 2:
            f1 += full
        if mask & 4:
            f2 += full
        f3 += full * volts
    # A line nobody here draws on cannot hold anyone back, even when fixed load overloads it.
    s0 = a0 < INF and f0 > a0 and mask_or & 1
    s1 = a1 < INF and f1 > a1 and mask_or & 2
    s2 = a2 < INF and f2 > a2 and mask_or & 4
    s3 = a3 < INF and f3 > a3
    if not (s0 or s1 or s2 or s3):
        return INF, 1, 0
    if mask_and == 0b111 and (s0 + s1 + s2) > 1:
        # Every session loads every line: the line(s) with least room decide for all three.
        least = min(a for a, short in ((a0, s0), (a1, s1), (a2, s2)) if short)
        s0 = s0 and a0 == least
        s1 = s1 and a1 == least
        s2 = s2 and a2 == least
    use0, use1, use2, use3 = bool(s0), bool(s1), bool(s2), bool(s3)
    if len(items) == 1:
        # One kind of session (a third of the calls on the benchmark): a short constraint fills
        # at room / weight -- the very fraction the sweep below would give.
        (((floor, _cap, _mask, volts), count),) = items.items()
        levels = []
        for k, use, room, weight in (
            (0, use0, a0, count),
            (1, use1, a1, count),
            (2, use2, a2, count),
            (3, use3, a3, count * volts),
        ):
            if use:
                levels.append((k, 0, 1) if floor * weight > room else (k, room, weight))
        return _least(levels)
    events = []
    add = events.append
    b0 = b1 = b2 = b3 = 0
    for (floor, cap, mask, volts), count in items.items():
        w0 = count if use0 and mask & 1 else 0
        w1 = count if use1 and mask & 2 else 0
        w2 = count if use2 and mask & 4 else 0
        w3 = count * volts if use3 else 0
        b0 += floor * w0
        b1 += floor * w1
        b2 += floor * w2
        b3 += floor * w3
        if cap > floor:
            add((floor, w0, w1, w2, w3))
            add((cap, -w0, -w1, -w2, -w3))
    levels = []
    active = []
    for k, use, used, room in (
        (0, use0, b0, a0),
        (1, use1, b1, a1),
        (2, use2, b2, a2),
        (3, use3, b3, a3),
    ):
        if not use:
            continue
        if used > room:
            levels.append((k, 0, 1))  # only floors; cannot happen after admission, stay safe
        else:
            active.append([k, used, 0, room])  # constraint, used at ``at``, slope, room
    if active:
        events.sort()
        at = 0
        for event in events:
            value = event[0]
            if value != at:
                step = value - at
                filled = False
                for entry in active:
                    slope = entry[2]
                    if slope:
                        reach = entry[1] + slope * step
                        if reach > entry[3]:
                            levels.append((entry[0], at * slope + entry[3] - entry[1], slope))
                            entry[2] = 0
                            entry[0] = -1
                            filled = True
                        else:
                            entry[1] = reach
                if filled:
                    active = [entry for entry in active if entry[0] >= 0]
                    if not active:
                        break
                at = value
            for entry in active:
                entry[2] += event[entry[0] + 1]
    return _least(levels)


def _least(levels: list[tuple[int, int, int]]) -> tuple[int, int, int]:
    """The least of the constraints' exact levels (k, num, den), and the bits of those at it."""
    if not levels:
        return INF, 1, 0
    num, den = INF, 1
    for _k, k_num, k_den in levels:
        if k_num * den < num * k_den:
            num, den = k_num, k_den
    if num >= INF:
        return INF, 1, 0
    binding = 0
    for k, k_num, k_den in levels:
        if k_num * den == num * k_den:
            binding |= 1 << k
    return num, den, binding


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


def _fill(
    tree: _Tree,
    classes: _Classes,
    rising: list[int],
    alloc: list[int],
    avail: list[list[int]],
    limited_by: list[int],
) -> None:
    """Raise the ``rising`` classes (from ``alloc``) by progressive filling within ``avail``
    (room left on each node by everything else; changed in place); writes ``alloc`` and
    ``limited_by`` (the node that holds each class back, -1 when it reached its cap)."""
    n_nodes = len(tree.ids)
    parent = tree.parent
    mask_of = classes.mask
    volts_of = classes.volts
    cap_of = classes.cap
    count_of = classes.count
    # A node where every rising class fits at its cap on each constraint (with ``avail`` as it is
    # now) can never bind during this fill: what is frozen later is at most its cap.  Its level
    # is "no limit" in every round; a subtree of such nodes is exactly its parent for the fill, so
    # its classes are solved at the nearest node that might bind ("home"), and the rest of the
    # tree is never visited.
    full = [[0, 0, 0, 0] for _ in range(n_nodes)]
    class_leaf = classes.leaf
    for c in rising:
        _add(full[class_leaf[c]], mask_of[c], cap_of[c] * count_of[c], volts_of[c])
    _rollup(tree, full)
    short = [False] * n_nodes
    active = [False] * n_nodes
    for i in reversed(tree.order):
        room, need = avail[i], full[i]
        if any(room[k] < INF and need[k] > room[k] for k in range(4)):
            short[i] = active[i] = True
        if active[i]:
            up = parent[i]
            if up >= 0:
                active[up] = True
    home = [-1] * n_nodes
    for i in tree.order:
        if active[i]:
            home[i] = i
        elif parent[i] >= 0:
            home[i] = home[parent[i]]
    order = [i for i in tree.order if active[i]]
    leaf_of = {}
    kept = []
    for c in rising:
        where = home[class_leaf[c]]
        if where < 0:  # nothing above it can bind: it reaches its cap
            alloc[c] = cap_of[c]
            limited_by[c] = -1
            continue
        leaf_of[c] = where
        kept.append(c)
    rising = kept
    # Each round freezes at least the sessions of the tightest constraint (its level is exact),
    # and a constraint whose sessions are all frozen cannot bind again: 4 per node at most.
    for _round in range(4 * n_nodes + 2):
        if not rising:
            return
        items: list[dict | None] = [None] * n_nodes
        for s in rising:
            leaf = leaf_of[s]
            bucket = items[leaf]
            if bucket is None:
                bucket = items[leaf] = {}
            key = (alloc[s], cap_of[s], mask_of[s], volts_of[s])
            bucket[key] = bucket.get(key, 0) + count_of[s]
        level = [INF] * n_nodes  # the exact level, num / den
        level_den = [1] * n_nodes
        binding = [0] * n_nodes
        # Two lower bounds of what a node's level truly is, for when a subtree held back a
        # session at a node whose binding constraint it takes no part in (a single-phase
        # vehicle under a node whose *other* line is full): such a session truly rises on, so
        # above that point this node's level counts too little load.
        # ``dirty``: the lowest level at which that happened below (exact up to there);
        # ``low``: the level counting those sessions as never held back (``delta`` turns this
        # node's items into those).
        dirty = [INF] * n_nodes
        dirty_den = [1] * n_nodes
        low = [INF] * n_nodes
        low_den = [1] * n_nodes
        delta: list[dict | None] = [None] * n_nodes
        for i in reversed(order):
            bucket = items[i]
            if bucket is None:
                continue
            if short[i]:
                num, den, bits = _solve_node(bucket, avail[i])
            else:
                num, den, bits = INF, 1, 0
            level[i] = num
            level_den[i] = den
            binding[i] = bits
            change = delta[i]
            if change and short[i]:
                pessimistic = dict(bucket)
                for key, count in change.items():
                    count += pessimistic.get(key, 0)
                    if count:
                        pessimistic[key] = count
                    else:
                        pessimistic.pop(key, None)
                low[i], low_den[i], _bits = _solve_node(pessimistic, avail[i])
            else:
                low[i], low_den[i] = num, den
            up = parent[i]
            if up < 0:
                continue
            target = items[up]
            if target is None:
                target = items[up] = {}
            if dirty[i] * dirty_den[up] < dirty[up] * dirty_den[i]:
                dirty[up], dirty_den[up] = dirty[i], dirty_den[i]
            if num >= INF:
                if target:
                    for key, count in bucket.items():
                        target[key] = target.get(key, 0) + count
                else:
                    target.update(bucket)
                if change:
                    shift = delta[up]
                    if shift is None:
                        shift = delta[up] = {}
                    for key, count in change.items():
                        shift[key] = shift.get(key, 0) + count
                continue
            lam = num // den
            shift = delta[up]
            for key, count in bucket.items():
                floor, cap, mask, volts = key
                if cap > lam:
                    if floor > lam:
                        held, at, at_den = floor, floor, 1
                    else:
                        held, at, at_den = lam, num, den
                    if held < cap and not (mask | POWER_BIT) & bits:
                        if at * dirty_den[up] < dirty[up] * at_den:
                            dirty[up], dirty_den[up] = at, at_den
                        if shift is None:
                            shift = delta[up] = {}
                        shift[key] = shift.get(key, 0) + count
                        held_key = (floor, held, mask, volts)
                        shift[held_key] = shift.get(held_key, 0) - count
                    key = (floor, held, mask, volts)
                target[key] = target.get(key, 0) + count
            if change:
                if shift is None:
                    shift = delta[up] = {}
                for (floor, cap, mask, volts), count in change.items():
                    if cap > lam and (mask | POWER_BIT) & bits:
                        cap = floor if floor > lam else lam
                    key = (floor, cap, mask, volts)
                    shift[key] = shift.get(key, 0) + count
        present = [i for i in order if items[i] is not None]  # nodes above a rising class
        # Top-down: a session's level is the least on its path (compared exactly); ``safe`` is
        # a level no session under the node can truly be held below, so what is at or under it
        # is final.
        eff = [INF] * n_nodes
        eff_den = [1] * n_nodes
        bound = [0] * n_nodes
        where = [-1] * n_nodes
        safe = [INF] * n_nodes
        safe_den = [1] * n_nodes
        for i in present:
            up = parent[i]
            num, den = level[i], level_den[i]
            if dirty[i] * den < num * dirty_den[i]:
                here, here_den = dirty[i], dirty_den[i]
            else:
                here, here_den = num, den
            if low[i] * here_den > here * low_den[i]:
                here, here_den = low[i], low_den[i]
            if up < 0:
                safe[i], safe_den[i] = here, here_den
                if num < INF:
                    eff[i], eff_den[i], bound[i], where[i] = num, den, binding[i], i
                continue
            if here * safe_den[up] < safe[up] * here_den:
                safe[i], safe_den[i] = here, here_den
            else:
                safe[i], safe_den[i] = safe[up], safe_den[up]
            above, above_den = eff[up], eff_den[up]
            if num * above_den < above * den:
                eff[i], eff_den[i], bound[i], where[i] = num, den, binding[i], i
            elif num < INF and num * above_den == above * den:
                eff[i], eff_den[i] = above, above_den
                bound[i], where[i] = bound[up] | binding[i], where[up]
            else:
                eff[i], eff_den[i], bound[i], where[i] = above, above_den, bound[up], where[up]
        floor_of = [INF] * n_nodes
        sure_of = [INF] * n_nodes
        exact = [False] * n_nodes
        for i in present:
            floor_of[i] = INF if eff[i] >= INF else eff[i] // eff_den[i]
            sure_of[i] = INF if safe[i] >= INF else safe[i] // safe_den[i]
            exact[i] = eff[i] * safe_den[i] <= safe[i] * eff_den[i]
        still = []
        spent = [[0, 0, 0, 0] for _ in range(n_nodes)]
        any_frozen = False
        for s in rising:
            leaf = leaf_of[s]
            lam = floor_of[leaf]
            floor = alloc[s]
            cap = cap_of[s]
            if lam >= cap:
                if cap <= sure_of[leaf]:
                    alloc[s] = value = cap
                    limited_by[s] = -1
                else:
                    value = -1
            elif exact[leaf] and (mask_of[s] | POWER_BIT) & bound[leaf]:
                alloc[s] = value = lam if lam > floor else floor
                limited_by[s] = where[leaf]
            else:
                value = -1
            if value < 0:
                # Not final yet: rise again next round from a level it surely reaches.
                sure = sure_of[leaf]
                if sure > floor:
                    alloc[s] = sure if sure < cap else cap
                still.append(s)
                continue
            # Frozen: it now weighs on every node above it as fixed load.
            any_frozen = True
            value *= count_of[s]
            row = spent[leaf]
            mask = mask_of[s]
            if mask & 1:
                row[0] += value
            if mask & 2:
                row[1] += value
            if mask & 4:
                row[2] += value
            row[POWER] += value * volts_of[s]
        if not any_frozen:
            break  # cannot happen (the tightest constraint always freezes); never loop
        for i in reversed(present):
            up = parent[i]
            if up >= 0:
                row, above = spent[i], spent[up]
                above[0] += row[0]
                above[1] += row[1]
                above[2] += row[2]
                above[POWER] += row[POWER]
        for i in present:
            row, room = spent[i], avail[i]
            for k in range(4):
                if room[k] < INF:
                    room[k] -= row[k]
        # The still-rising sessions keep their current values as floors (the solver counts them).
        rising = still
    for s in rising:  # feasible where they stand; name the node that held them
        limited_by[s] = tree.path[class_leaf[s]][-1]


# --- allocate -------------------------------------------------------------------------------

LINES_OF_MASK = tuple(
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
                above[k] += row[k]


def _add(row: list[int], mask: int, value: int, volts: int) -> None:
    if mask & 1:
        row[0] += value
    if mask & 2:
        row[1] += value
    if mask & 4:
        row[2] += value
    row[POWER] += value * volts


def _take(room: list[list[int]], used: list[list[int]]) -> None:
    """room -= used, where room is finite."""
    for row, spent in zip(room, used, strict=True):
        for k in range(4):
            if row[k] < INF:
                row[k] -= spent[k]


def allocate(snapshot: Snapshot) -> Result:
    """A limit for every EVSE of the snapshot.  Deterministic: the same snapshot, in whatever
    order its tuples list nodes, EVSEs and sessions, gives the same result."""
    # Hot path (10,000 EVSEs per call): locals instead of attribute look-ups, one record per
    # session instead of parallel lists, results built with tuple.__new__ (a NamedTuple's own
    # constructor is a Python function).
    new = tuple.__new__
    policy = snapshot.policy
    now = snapshot.now
    state_get = snapshot.state.get
    tree, node_index = _build_tree(snapshot.nodes)
    n_nodes = len(tree.ids)
    base = [[*node.load_da, node.load_w * 10] for node in snapshot.nodes]
    reserved = [[0, 0, 0, 0] for _ in range(n_nodes)]  # unmanaged EVSEs and idle defaults
    drawn = [[0, 0, 0] for _ in range(n_nodes)]
    evses = snapshot.evses
    evse_by_id = {evse.id: evse for evse in evses}
    if len(evse_by_id) != len(evses):
        raise SnapshotError("An EVSE appears twice")
    evse_get = evse_by_id.get
    leaf_get = node_index.get
    allocations: dict[int, Allocation] = {}
    wiring: dict[tuple, tuple[int, int]] = {}
    wiring_get = wiring.get

    # One record per session, indexed by ``s``:
    # (evse id, leaf, mask, volts, minimum, cap, hardware, session, previous, class)
    # cap: what it can use now (hardware, vehicle, observed draw); hardware: the EVSE maximum
    # lowered by the vehicle's own cap; class -1: arming (scheduled to start soon), holds its
    # minimum only.
    records: list[tuple] = []
    append = records.append
    classes = _Classes()
    class_of: dict[tuple, int] = {}
    class_get = class_of.get
    c_count = classes.count
    c_members = classes.members
    node_ids = tree.ids
    seen: set[int] = set()
    seen_add = seen.add
    unmanaged: list[Evse] = []  # uncontrollable EVSEs with a session: counted at their maximum
    lookahead_end = now + policy.schedule_lookahead
    threshold = policy.unused_threshold_da
    margin = policy.unused_margin_da
    scheduled = Reason.SCHEDULED
    for session in snapshot.sessions:
        evse_id = session.evse
        evse = evse_get(evse_id)
        if evse is None:
            raise SnapshotError(f"A session runs on an unknown EVSE {evse_id}")
        if evse_id in seen:
            raise SnapshotError(f"Two sessions run on EVSE {evse_id}")
        seen_add(evse_id)
        leaf = leaf_get(evse.node)
        if leaf is None:
            raise SnapshotError(f"EVSE {evse_id} hangs on an unknown node {evse.node}")
        controllable = evse.controllable
        phases = session.vehicle_phases if controllable else None
        key = (evse.legs, phases)
        wired = wiring_get(key)
        if wired is None:
            wired = wiring[key] = _wire(evse.legs, phases)
        mask, legs = wired
        draw = session.draw_da
        if draw:
            row = drawn[leaf]
            if mask & 1:
                row[0] += draw
            if mask & 2:
                row[1] += draw
            if mask & 4:
                row[2] += draw
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
        previous = state_get(evse_id)
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
            key = (leaf, session.priority, minimum, cap, mask, volts)
            c = class_get(key)
            if c is None:
                c = class_of[key] = len(c_count)
                classes.add(key, node_ids[leaf])
            c_count[c] += 1
            c_members[c].append(s)
        append((evse_id, leaf, mask, volts, minimum, cap, hardware, session, previous, c))
    idle, unmanaged_reason = Reason.IDLE, Reason.UNMANAGED
    rest = [evse_by_id[i] for i in evse_by_id.keys() - seen]
    rest.extend(unmanaged)
    for evse in rest:
        leaf = leaf_get(evse.node)
        if leaf is None:
            raise SnapshotError(f"EVSE {evse.id} hangs on an unknown node {evse.node}")
        key = (evse.legs, None)
        wired = wiring_get(key)
        if wired is None:
            wired = wiring[key] = _wire(evse.legs, None)
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
        c = records[s][9]
        if c >= 0:
            c_count[c] -= 1
            c_members[c].remove(s)
    for s, record in enumerate(records):
        if record[9] < 0 and s not in paused_at:  # an arming session holds its minimum
            _add(used[record[1]], record[2], record[4], record[3])
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
                row[0] += value
            if mask & 2:
                row[1] += value
            if mask & 4:
                row[2] += value
            row[POWER] += value * c_volts[c]
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
        floors = [[0, 0, 0, 0] for _ in range(n_nodes)]
        for c in rising:
            value = alloc[c] * c_count[c]
            row = floors[c_leaf[c]]
            mask = c_mask[c]
            if mask & 1:
                row[0] += value
            if mask & 2:
                row[1] += value
            if mask & 4:
                row[2] += value
            row[POWER] += value * c_volts[c]
        _rollup(tree, floors)
        # The solver counts the rising classes' floors itself: give their room back.
        tier_room = [
            [r + f if r < INF else INF for r, f in zip(rr, ff, strict=True)]
            for rr, ff in zip(room, floors, strict=True)
        ]
        before = [alloc[c] for c in rising]
        _fill(tree, classes, rising, alloc, tier_room, limited_by)
        gained = [[0, 0, 0, 0] for _ in range(n_nodes)]
        last = tier == tiers[-1]
        for c, start in zip(rising, before, strict=True):
            extra = (alloc[c] - start) * c_count[c]
            if extra:
                row = gained[c_leaf[c]]
                mask = c_mask[c]
                if mask & 1:
                    row[0] += extra
                if mask & 2:
                    row[1] += extra
                if mask & 4:
                    row[2] += extra
                row[POWER] += extra * c_volts[c]
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
            row[0] += total
        if mask & 2:
            row[1] += total
        if mask & 4:
            row[2] += total
        row[POWER] += total * c_volts[c]
        if extra:
            members.sort(key=lambda s: records[s][0])
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
        evse_id, leaf, mask, volts, minimum, _cap, hardware, session, previous, c = record
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
                reason = r_max if value >= evse_by_id[evse_id].max_da else r_vehicle
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
    for i, node in enumerate(snapshot.nodes):
        b, a, d = base[i], applied[i], drawn[i]
        loads[node.id] = NodeLoad(
            node.id,
            node.limit_da,
            node.limit_w,
            (b[0], b[1], b[2]),
            -(-b[POWER] // 10),
            (a[0], a[1], a[2]),
            -(-a[POWER] // 10),
            (d[0], d[1], d[2]),
        )
    return Result(allocations, loads)


def _admit(
    tree: _Tree,
    records: list[tuple],
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
        _evse, leaf, mask, volts, minimum, cap = record[:6]
        if cap < minimum or cap <= 0:
            paused_at[s] = -1
            continue
        possible.append(s)
        row = need[leaf]
        if mask & 1:
            row[0] += minimum
        if mask & 2:
            row[1] += minimum
        if mask & 4:
            row[2] += minimum
        row[POWER] += minimum * volts
    _rollup(tree, need)
    overloaded = [
        any(need[i][k] > avail[i][k] for k in range(4) if avail[i][k] < INF) for i in range(n_nodes)
    ]
    if not any(overloaded):
        return paused_at
    # Only sessions under an overloaded node compete; the others all fit.
    checks: dict[int, tuple[int, ...]] = {}
    contested = []
    for s in possible:
        leaf = records[s][1]
        nodes = checks.get(leaf)
        if nodes is None:
            nodes = checks[leaf] = tuple(i for i in tree.path[leaf] if overloaded[i])
        if nodes:
            contested.append(s)
    turn_cutoff = now - policy.rotation_interval
    rotation = policy.rotation_interval

    def rank(s: int) -> tuple:
        """Priority; then a powered session still inside its turn; then whoever has waited
        longest -- a powered session whose turn is over queues from the end of its turn."""
        record = records[s]
        session = record[7]
        previous = record[8]
        if previous is not None and previous.limit_da > 0:
            if previous.since > turn_cutoff:
                return (-session.priority, 0, previous.since, session.started_at, session.evse)
            waiting = previous.since + rotation
        else:
            waiting = session.started_at
            if previous is not None and previous.since > waiting:
                waiting = previous.since
        return (-session.priority, 1, waiting, session.started_at, session.evse)

    contested.sort(key=rank)
    room = [row[:] for row in avail]
    for s in contested:
        _evse, leaf, mask, volts, minimum = records[s][:5]
        lines = LINES_OF_MASK[mask]
        power = minimum * volts
        nodes = checks[leaf]
        full = -1
        for i in nodes:
            row = room[i]
            if row[POWER] < power or any(row[line] < minimum for line in lines):
                full = i
                break
        if full >= 0:
            paused_at[s] = full
            continue
        for i in nodes:
            row = room[i]
            row[POWER] -= power
            for line in lines:
                row[line] -= minimum
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
                    row[line] -= steps
                row[POWER] -= steps * volts
            grant[c] += steps
            if steps == count:
                again.append(c)  # everyone got a step: there may be room for another
        pending = again
