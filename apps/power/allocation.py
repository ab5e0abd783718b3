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

The phases of ``allocate``, one function each, in this order: ``_classify`` (a record per
session: its lines, minimum and usable cap -- rule 5 -- or its fate when it is scheduled or
unmanaged), ``_reserve`` (rule 1: idle and unmanaged EVSEs), ``_admit`` (rules 2 and 3),
``_hold_minimums`` (admitted sessions hold their minimums and are grouped into classes),
``_fill_tiers`` and ``_fill`` (rule 4: progressive filling, tier by tier), ``_share_remainder``
(the 0.1 A steps a fair level leaves over), ``_targets`` and ``_hysteresis`` (rule 6, the
reasons), ``_node_loads``.  ``tests/power/reference.py`` is a slow, obviously correct version of
the same rules, and the differential test compares them.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from heapq import heapify, heappop, heappush
from typing import NamedTuple


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


# --- Records ----------------------------------------------------------------------------------
# Every node carries four constraints: its three grid lines (indices 0, 1, 2) and its power
# limit (index ``POWER``).  A *row* is one value per constraint of one node, a list of four
# integers: currents in dA on the lines, power in dA x V.  ``INF`` stands for "no limit".

LINES = 3
POWER = 3
CONSTRAINTS = range(4)
INF = 1 << 60  # far above any sum of real currents


@dataclass(slots=True)
class _Tree:
    """The nodes by index (their position in the snapshot)."""

    ids: list[int]
    parent: list[int | None]
    order: list[int]  # parents before children
    path: list[tuple[int, ...]]  # the node, its parent, ... the root
    capacity: list[list[int]]  # per node, a row: its limits (INF where none)


@dataclass(slots=True, eq=False)
class _Class:
    """Sessions that are interchangeable for the fill -- same node, tier, minimum, cap, lines and
    volts: the fill's cost grows with the kinds of sessions, not with their number."""

    leaf: int  # node index
    node_id: int
    tier: int  # the sessions' priority
    minimum: int
    cap: int
    lines: tuple[int, ...]  # the grid lines each session loads, in order
    volts: int  # power per dA of one session (dA x V)
    members: list[_Record] = field(default_factory=list)
    count: int = 0  # len(members)
    level: int = 0  # what each member gets (before the remainder)
    limited_by: int | None = None  # node index of the node that holds it back (None: its cap)
    grant: int = 0  # 0.1 A steps of the remainder for the class (members get them in turn)
    # For the fill of its tier only:
    frozen: bool = False
    constraints: list[_Constraint] = field(default_factory=list)

    def weight(self, kind: int) -> int:
        """How much the load of one of its constraints grows per dA of its level."""
        return self.count * self.volts if kind == POWER else self.count


@dataclass(slots=True, eq=False)
class _Record:
    """One session being allocated."""

    evse: int
    leaf: int  # node index of its EVSE's node
    lines: tuple[int, ...]
    volts: int
    minimum: int
    cap: int  # what it can use now: hardware, vehicle, what it draws
    hardware: int  # the EVSE's maximum lowered by the vehicle's own cap
    maximum: int  # the EVSE's maximum
    session: Session
    previous: EvseState | None
    arming: bool  # scheduled to start within the lookahead: holds its minimum, gets 0
    paused: bool = False
    paused_by: int | None = None  # the node index that had no room (None: cannot charge at all)
    group: _Class | None = None  # None when paused or arming
    target: int = 0  # its fair limit, before hysteresis


class _Breakpoint(NamedTuple):
    """Where a rising class changes the slope of a constraint's load: at its floor it starts
    rising (``change`` = its weight), at its cap it stops (minus its weight)."""

    level: int
    change: int
    group: _Class


@dataclass(slots=True, eq=False)
class _Constraint:
    """A line or the power of one node during the fill, with its load as a function of the
    common level: swept from below, it stands at level ``at`` with load ``load`` and ``slope``."""

    index: int
    node: int
    kind: int  # a line (0, 1, 2) or POWER
    room: int  # for the rising classes, their floors included
    rate: int  # the weight of its rising classes
    floors: int  # the load of their floors
    members: list[_Class] = field(default_factory=list)
    rising: int = 0  # members not frozen yet
    built: bool = False
    stale: bool = False
    breakpoints: list[_Breakpoint] = field(default_factory=list)
    cursor: int = 0  # next breakpoint of the sweep
    at: int = 0
    load: int = 0
    slope: int = 0
    fill_level: Fraction | None = None  # exact; None: it never fills


# --- Small helpers on rows --------------------------------------------------------------------


def _rows(count: int) -> list[list[int]]:
    return [[0, 0, 0, 0] for _ in range(count)]


def _add(row: list[int], lines: tuple[int, ...], value: int, volts: int) -> None:
    """Add a current of ``value`` dA on each of ``lines`` (and its power) to ``row``."""
    for line in lines:
        row[line] += value
    row[POWER] += value * volts


def _rollup(tree: _Tree, rows: list[list[int]]) -> None:
    """Add each node's row into its parent's, bottom-up, in place."""
    parent = tree.parent
    for i in reversed(tree.order):
        above = parent[i]
        if above is not None:
            row, total = rows[i], rows[above]
            for k in range(len(row)):
                total[k] += row[k]


def _take(room: list[list[int]], used: list[list[int]]) -> None:
    """room -= used, where room is finite."""
    for row, spent in zip(room, used, strict=True):
        for k in CONSTRAINTS:
            if row[k] < INF:
                row[k] -= spent[k]


def _wire(legs: tuple[tuple[int, ...], ...], phases: int | None) -> tuple[tuple[int, ...], int]:
    """(the grid lines loaded, sorted; the number of legs used) by a vehicle on ``phases``."""
    used = legs[:phases] if phases else legs
    lines = set()
    for leg in used:
        for line in leg:
            if not 0 <= line < LINES:
                raise SnapshotError(f"Grid line {line} does not exist (0, 1 or 2)")
            lines.add(line)
    return tuple(sorted(lines)), len(used)


_Wirings = dict[tuple[tuple[tuple[int, ...], ...], int | None], tuple[tuple[int, ...], int]]


def _wiring(
    wirings: _Wirings, legs: tuple[tuple[int, ...], ...], phases: int | None
) -> tuple[tuple[int, ...], int]:
    """``_wire``, remembered: EVSEs share a few wirings."""
    key = (legs, phases)
    wiring = wirings.get(key)
    if wiring is None:
        wiring = wirings[key] = _wire(legs, phases)
    return wiring


def _line_set(lines: tuple[int, ...]) -> int:
    """The lines as a set number (L1 = 1, L2 = 2, L3 = 4): the remainder's order of wirings."""
    return sum(1 << line for line in lines)


# --- allocate ---------------------------------------------------------------------------------


def allocate(snapshot: Snapshot) -> Result:
    """A limit for every EVSE of the snapshot.  Deterministic: the same snapshot, in whatever
    order its tuples list nodes, EVSEs and sessions, gives the same result."""
    # The cyclic garbage collector is paused while allocating: a run makes tens of thousands of
    # short-lived objects, none in a reference cycle, and the collections their allocation
    # triggers (traversing the whole snapshot meanwhile) found nothing but cost 4-5 ms per
    # 10,000 EVSEs.  The previous state is restored, even on an error.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _allocate(snapshot)
    finally:
        if enabled:
            gc.enable()


def _allocate(snapshot: Snapshot) -> Result:
    tree, node_index = _build_tree(snapshot.nodes)
    allocations: dict[int, Allocation] = {}
    drawn = [[0, 0, 0] for _ in tree.ids]
    wirings: _Wirings = {}
    records, idle = _classify(snapshot, node_index, wirings, allocations, drawn)
    reserved = _reserve(idle, node_index, wirings, allocations)
    available = _available(snapshot, tree, reserved)
    _admit(tree, records, available, snapshot.now, snapshot.policy)
    room, classes = _hold_minimums(tree, records, available)
    first_gain = _fill_tiers(tree, classes, room)
    if snapshot.policy.share_remainder:
        _share_remainder(tree, classes, room)
    applied = _targets(classes, reserved)
    _hysteresis(tree, records, applied, allocations, snapshot.now, snapshot.policy, first_gain)
    return Result(allocations, _node_loads(snapshot, tree, applied, drawn))


def _build_tree(nodes: Iterable[Node]) -> tuple[_Tree, dict[int, int]]:
    nodes = list(nodes)
    index: dict[int, int] = {}
    for i, node in enumerate(nodes):
        if node.id in index:
            raise SnapshotError(f"Node {node.id} appears twice")
        index[node.id] = i
    parent: list[int | None] = []
    children: list[list[int]] = [[] for _ in nodes]
    roots = []
    for i, node in enumerate(nodes):
        if node.parent is None:
            parent.append(None)
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
        above = parent[i]
        path[i] = (i,) if above is None else (i, *path[above])
    capacity = [
        [INF if limit is None else limit for limit in node.limit_da]
        + [INF if node.limit_w is None else node.limit_w * 10]
        for node in nodes
    ]
    return _Tree([node.id for node in nodes], parent, order, path, capacity), index


def _classify(
    snapshot: Snapshot,
    node_index: dict[int, int],
    wirings: _Wirings,
    allocations: dict[int, Allocation],
    drawn: list[list[int]],
) -> tuple[list[_Record], list[Evse]]:
    """One record per session to allocate; returns them and the EVSEs whose load is fixed (idle
    or unmanaged).  Sessions scheduled beyond the lookahead get their allocation here, and what
    each session draws is counted on its node in ``drawn``."""
    now = snapshot.now
    policy = snapshot.policy
    lookahead_end = now + policy.schedule_lookahead
    evse_by_id = {evse.id: evse for evse in snapshot.evses}
    if len(evse_by_id) != len(snapshot.evses):
        raise SnapshotError("An EVSE appears twice")
    with_session: set[int] = set()
    unmanaged: list[Evse] = []
    records: list[_Record] = []
    for session in snapshot.sessions:
        evse = evse_by_id.get(session.evse)
        if evse is None:
            raise SnapshotError(f"A session runs on an unknown EVSE {session.evse}")
        if evse.id in with_session:
            raise SnapshotError(f"Two sessions run on EVSE {evse.id}")
        with_session.add(evse.id)
        leaf = node_index.get(evse.node)
        if leaf is None:
            raise SnapshotError(f"EVSE {evse.id} hangs on an unknown node {evse.node}")
        phases = session.vehicle_phases if evse.controllable else None
        lines, legs = _wiring(wirings, evse.legs, phases)
        if session.draw_da:
            for line in lines:
                drawn[leaf][line] += session.draw_da
        if not evse.controllable:
            unmanaged.append(evse)
            continue
        arming = session.starts_at is not None and session.starts_at > now
        if arming and session.starts_at > lookahead_end:
            allocations[evse.id] = Allocation(evse.id, 0, Reason.SCHEDULED)
            continue
        hardware = evse.max_da if session.max_da is None else min(evse.max_da, session.max_da)
        minimum = max(evse.min_da, session.min_da)
        previous = snapshot.state.get(evse.id)
        cap = _usable(session, previous, minimum, hardware, policy)
        volts = evse.volts * legs
        # Positional, in the order of the fields: keywords cost 5 ms per 8,000 sessions here.
        records.append(
            _Record(
                evse.id,
                leaf,
                lines,
                volts,
                minimum,
                cap,
                hardware,
                evse.max_da,
                session,
                previous,
                arming,
            )
        )
    idle = [evse for evse in snapshot.evses if evse.id not in with_session]
    return records, idle + unmanaged


def _usable(
    session: Session, previous: EvseState | None, minimum: int, hardware: int, policy: Policy
) -> int:
    """Rule 5: a vehicle drawing clearly less than its limit is capped near what it draws."""
    draw = session.draw_da
    if draw is None or previous is None:
        return hardware
    if previous.limit_da > 0 and draw + policy.unused_threshold_da <= previous.limit_da:
        # What it draws plus a margin, in whole amps (fewer distinct caps, fewer classes).
        whole_amps = -(-(draw + policy.unused_margin_da) // 10) * 10
        return min(max(whole_amps, minimum), hardware)
    return hardware


def _reserve(
    evses: list[Evse],
    node_index: dict[int, int],
    wirings: _Wirings,
    allocations: dict[int, Allocation],
) -> list[list[int]]:
    """Rule 1: EVSEs we do not manage count first -- unmanaged ones at their maximum, idle ones
    at what their default profile lets a new session draw.  Returns their load per node."""
    reserved = _rows(len(node_index))
    for evse in evses:
        leaf = node_index.get(evse.node)
        if leaf is None:
            raise SnapshotError(f"EVSE {evse.id} hangs on an unknown node {evse.node}")
        lines, legs = _wiring(wirings, evse.legs, None)
        if evse.controllable:
            value, reason = evse.idle_da, Reason.IDLE
        else:
            value, reason = evse.max_da, Reason.UNMANAGED
        if value:
            _add(reserved[leaf], lines, value, evse.volts * legs)
        allocations[evse.id] = Allocation(evse.id, value, reason, None, value)
    return reserved


def _available(snapshot: Snapshot, tree: _Tree, reserved: list[list[int]]) -> list[list[int]]:
    """Per node, the room left for the sessions: its limits minus the fixed load under it."""
    fixed = [[*node.load_da, node.load_w * 10] for node in snapshot.nodes]  # building load
    for row, reserve in zip(fixed, reserved, strict=True):
        for k in CONSTRAINTS:
            row[k] += reserve[k]
    _rollup(tree, fixed)
    room = [row[:] for row in tree.capacity]
    _take(room, fixed)
    return room


def _admit(
    tree: _Tree, records: list[_Record], available: list[list[int]], now: datetime, policy: Policy
) -> None:
    """Rules 2 and 3: which sessions get power.  In rank order, those whose minimum fits on
    every node above them; the others are marked paused, with the node that was full."""
    possible = []
    need = _rows(len(tree.ids))
    for record in records:
        if record.cap < record.minimum or record.cap <= 0:
            record.paused = True  # it cannot charge at all
            continue
        possible.append(record)
        _add(need[record.leaf], record.lines, record.minimum, record.volts)
    _rollup(tree, need)
    # Only where the minimums do not all fit can a session be turned away.
    tight: list[list[int]] = [
        [k for k in CONSTRAINTS if room[k] < INF and wanted[k] > room[k]]
        for wanted, room in zip(need, available, strict=True)
    ]
    if not any(tight):
        return
    # The tight constraints above each leaf, leaf first; sessions under none of them all fit.
    above: dict[int, list[tuple[int, int]]] = {}
    contested = []
    for record in possible:
        checks = above.get(record.leaf)
        if checks is None:
            checks = above[record.leaf] = [(i, k) for i in tree.path[record.leaf] for k in tight[i]]
        if checks:
            contested.append(record)
    turn_end = now - policy.rotation_interval

    def rank(record: _Record) -> tuple[int, int, datetime, datetime, int]:
        """Priority; then a powered session still inside its turn; then whoever has waited
        longest -- a powered session whose turn is over queues from the end of its turn."""
        session, previous = record.session, record.previous
        if previous is not None and previous.limit_da > 0:
            if previous.since > turn_end:
                return (-session.priority, 0, previous.since, session.started_at, session.evse)
            waiting = previous.since + policy.rotation_interval
        else:
            waiting = session.started_at
            if previous is not None and previous.since > waiting:
                waiting = previous.since
        return (-session.priority, 1, waiting, session.started_at, session.evse)

    contested.sort(key=rank)
    room = [row[:] for row in available]
    loaded: dict[tuple[int, tuple[int, ...]], list[tuple[int, int]]] = {}
    for record in contested:
        # The tight constraints this session's wiring loads (the others it does not touch).
        checks = loaded.get((record.leaf, record.lines))
        if checks is None:
            checks = loaded[(record.leaf, record.lines)] = [
                (i, k) for i, k in above[record.leaf] if k == POWER or k in record.lines
            ]
        minimum, power = record.minimum, record.minimum * record.volts
        full = _first_full(room, checks, minimum, power)
        if full is not None:
            record.paused = True
            record.paused_by = full
            continue
        for i, k in checks:
            room[i][k] -= power if k == POWER else minimum


def _first_full(
    room: list[list[int]], checks: list[tuple[int, int]], minimum: int, power: int
) -> int | None:
    """The first node (of ``checks``) where a minimum of ``minimum`` dA (``power``) does not fit."""
    for i, k in checks:
        if room[i][k] < (power if k == POWER else minimum):
            return i
    return None


def _hold_minimums(
    tree: _Tree, records: list[_Record], available: list[list[int]]
) -> tuple[list[list[int]], list[_Class]]:
    """Every admitted session holds its minimum; the ones to fill are grouped into classes.
    Returns the room left on each node and the classes."""
    held = _rows(len(tree.ids))
    classes: dict[tuple[int, int, int, int, tuple[int, ...], int], _Class] = {}
    for record in records:
        if record.paused:
            continue
        if record.arming:
            _add(held[record.leaf], record.lines, record.minimum, record.volts)
            continue
        priority = record.session.priority
        key = (record.leaf, priority, record.minimum, record.cap, record.lines, record.volts)
        group = classes.get(key)
        if group is None:
            group = classes[key] = _Class(
                record.leaf,
                tree.ids[record.leaf],
                priority,
                record.minimum,
                record.cap,
                record.lines,
                record.volts,
                level=record.minimum,
            )
        group.members.append(record)
        record.group = group
    for group in classes.values():
        group.count = len(group.members)
        _add(held[group.leaf], group.lines, group.minimum * group.count, group.volts)
    _rollup(tree, held)
    room = [row[:] for row in available]
    _take(room, held)
    return room, list(classes.values())


def _fill_tiers(tree: _Tree, classes: list[_Class], room: list[list[int]]) -> list[int | None]:
    """Rule 4: above the minimums, the highest tier first, each by progressive filling of what
    the tiers above left.  Returns per node the highest tier that got more than its minimums
    under it while a lower tier was still to come (which names PRIORITY as the reason)."""
    first_gain: list[int | None] = [None] * len(tree.ids)
    tiers = sorted({group.tier for group in classes}, reverse=True)
    for tier in tiers:
        rising = [group for group in classes if group.tier == tier and group.cap > group.level]
        floors = [group.level for group in rising]
        _fill(tree, rising, room)
        gained = _rows(len(tree.ids))
        for group, floor in zip(rising, floors, strict=True):
            extra = (group.level - floor) * group.count
            if not extra:
                continue
            _add(gained[group.leaf], group.lines, extra, group.volts)
            if tier != tiers[-1]:
                for i in tree.path[group.leaf]:
                    if first_gain[i] is None:
                        first_gain[i] = tier
        _rollup(tree, gained)
        _take(room, gained)
    return first_gain


# --- The fill ---------------------------------------------------------------------------------
# Progressive filling over a laminar family (the tree) of constraints.  One common level rises
# for every rising class; the constraint that fills first (at an exact rational level) stops
# the classes it carries at that level rounded down to 0.1 A -- with every constraint that
# fills at exactly the same level -- and the others rise on, as the slow reference
# (tests/power/reference.py) does step by step.
#
# Each constraint's load is a piecewise-linear function of the level: a class adds its floor
# until the level reaches it, then rises with the level up to its cap.  It is swept once from
# below, breakpoint by breakpoint.  A stopped class only lowers the load of the other
# constraints above it, so a constraint's last computed fill level is a lower bound of its true
# one: a heap of fill levels recomputes a constraint lazily, only when it comes to the top.
# Most constraints never bind (their classes stop on another one first), so a constraint is
# only *built* (its breakpoints sorted) when a cheap lower bound of its fill level comes to the
# top: with ``rate`` its rising weight, ``floors`` the load of its classes' floors, ``highest``
# the highest floor and ``room`` its room, its load at a level x is at most rate x x from
# x = highest on, and at most floors + rate x x below, so it cannot fill below room / rate (or
# (room - floors) / rate).


def _fill(tree: _Tree, rising: list[_Class], room: list[list[int]]) -> None:
    """Raise the ``rising`` classes from their ``level`` by progressive filling within ``room``
    (the room left on each node by everything else, the rising classes' floors excepted); sets
    their ``level`` and ``limited_by``."""
    constraints = _binding_candidates(tree, rising, room)
    heap: list[tuple[float, int]] = []
    highest = max((group.level for group in rising), default=0)
    for constraint in constraints:
        if constraint.floors > constraint.room:
            # Its floors alone do not fit (cannot happen after admission, but stay safe): it
            # is full at once.
            _build(constraint)
            constraint.stale = False
            constraint.fill_level = Fraction(0)
            heap.append((0.0, constraint.index))
            continue
        bound = _lower_bound(constraint, highest)
        if bound is not None:
            heap.append((bound, constraint.index))
    heapify(heap)
    # Pop the heap's top: a constraint whose bound came to the top is built, one whose fill
    # level is stale is swept on (both go back in the heap); the first current one sets
    # ``limit``, and every current one within rounding of it is a candidate; then the event.
    candidates: list[_Constraint] = []
    limit = 0.0
    while heap or candidates:
        if heap and (not candidates or heap[0][0] <= limit):
            top, index = heappop(heap)
            constraint = constraints[index]
            if not constraint.rising:
                continue
            if not constraint.built:
                _build(constraint)
            if constraint.stale:
                constraint.stale = False
                constraint.fill_level = _sweep(constraint)
                if constraint.fill_level is not None:
                    heappush(heap, (float(constraint.fill_level), index))
                continue
            if not candidates:
                limit = top * (1 + 1e-9) + 1e-9
            candidates.append(constraint)
            continue
        level = min(candidate.fill_level for candidate in candidates)
        binding = []
        for candidate in candidates:
            if candidate.fill_level == level:
                binding.append(candidate)
            else:
                heappush(heap, (float(candidate.fill_level), candidate.index))
        _stop(tree, binding, level)
        candidates = []
    for group in rising:
        if not group.frozen:
            group.level = group.cap
            group.limited_by = None


def _binding_candidates(
    tree: _Tree, rising: list[_Class], room: list[list[int]]
) -> list[_Constraint]:
    """The constraints that can bind: where the rising classes at their caps do not fit in the
    room (``room`` plus their floors: the fill counts them itself).  Links each to its classes
    and each class to its constraints."""
    at_caps = _rows(len(tree.ids))
    weights = _rows(len(tree.ids))
    floors = _rows(len(tree.ids))
    for group in rising:
        group.frozen = False
        group.constraints = []
        _add(at_caps[group.leaf], group.lines, group.cap * group.count, group.volts)
        _add(weights[group.leaf], group.lines, group.count, group.volts)
        _add(floors[group.leaf], group.lines, group.level * group.count, group.volts)
    for rows in (at_caps, weights, floors):
        _rollup(tree, rows)
    constraints: list[_Constraint] = []
    by_node: list[list[_Constraint | None]] = [[None] * 4 for _ in tree.ids]
    for i, free in enumerate(room):
        for k in CONSTRAINTS:
            if free[k] >= INF or at_caps[i][k] <= free[k] + floors[i][k]:
                continue
            constraint = _Constraint(
                len(constraints), i, k, free[k] + floors[i][k], weights[i][k], floors[i][k]
            )
            constraints.append(constraint)
            by_node[i][k] = constraint
    if constraints:
        for group in rising:
            for i in tree.path[group.leaf]:
                for k in (*group.lines, POWER):
                    constraint = by_node[i][k]
                    if constraint is not None:
                        constraint.members.append(group)
                        group.constraints.append(constraint)
        for constraint in constraints:
            constraint.rising = len(constraint.members)
    return constraints


def _lower_bound(constraint: _Constraint, highest: int) -> float | None:
    """A level below which the constraint cannot fill (None: it never fills)."""
    rate, floors, room = constraint.rate, constraint.floors, constraint.room
    if rate <= 0:
        return None  # nothing rising loads it (zero volts)
    if room >= rate * highest:
        return room / rate
    return (room - floors) / rate


def _build(constraint: _Constraint) -> None:
    """Set the constraint up for its sweep from level 0: the load of its classes' floors (a
    stopped class is a constant load), the slope of those rising from 0, and the breakpoints."""
    load = slope = 0
    breakpoints = []
    for group in constraint.members:
        weight = group.weight(constraint.kind)
        load += group.level * weight
        if group.frozen:
            continue
        if group.level > 0:
            breakpoints.append(_Breakpoint(group.level, weight, group))
        else:
            slope += weight
        breakpoints.append(_Breakpoint(group.cap, -weight, group))
    breakpoints.sort(key=_by_level)
    constraint.breakpoints = breakpoints
    constraint.load, constraint.slope, constraint.at, constraint.cursor = load, slope, 0, 0
    constraint.built = True
    constraint.stale = True


def _by_level(breakpoint: _Breakpoint) -> int:
    return breakpoint.level


def _sweep(constraint: _Constraint) -> Fraction | None:
    """The exact level at which the constraint fills, sweeping on from where it stands, one
    level (all its breakpoints there) at a time.  A stopped class's breakpoints change nothing."""
    breakpoints = constraint.breakpoints
    load, at, slope, cursor = constraint.load, constraint.at, constraint.slope, constraint.cursor
    fills: Fraction | None = None
    while cursor < len(breakpoints):
        level = breakpoints[cursor].level
        if slope:
            reach = load + slope * (level - at)
            if reach > constraint.room:
                fills = Fraction(at * slope + constraint.room - load, slope)
                break
            load = reach
        at = level
        while cursor < len(breakpoints) and breakpoints[cursor].level == level:
            point = breakpoints[cursor]
            if not point.group.frozen:
                slope += point.change
            cursor += 1
    else:
        if slope > 0:
            fills = Fraction(at * slope + constraint.room - load, slope)
    constraint.load, constraint.at, constraint.slope, constraint.cursor = load, at, slope, cursor
    return fills


def _stop(tree: _Tree, binding: list[_Constraint], level: Fraction) -> None:
    """The event: the ``binding`` constraints fill at ``level``; their rising classes stop at
    that level rounded down to 0.1 A (or at their cap), and become a constant load."""
    whole_level = math.floor(level)
    full_nodes = {constraint.node for constraint in binding}
    limiting = _limiting_nodes(tree, binding, level, whole_level, full_nodes)
    for constraint in binding:
        for group in constraint.members:
            if group.frozen:
                continue
            floor = group.level
            if group.cap <= whole_level:
                value = group.cap
                group.limited_by = None
            else:
                value = max(whole_level, floor)
                group.limited_by = _limiting_node(tree, group, limiting, full_nodes)
            _freeze(group, floor, value)
        constraint.rising = 0


def _limiting_nodes(
    tree: _Tree, binding: list[_Constraint], level: Fraction, whole_level: int, full_nodes: set[int]
) -> set[int]:
    """Of the nodes that fill at the same level, those that limit their sessions.

    A session that a lower node's filling constraint also holds is that node's -- unless the
    level is whole and the node above has sessions of its own rising to it (then the one above).
    At a fractional level, as sessions are held at that level rounded down, a node above that
    shares them has a little room left: it is not full."""
    if len(full_nodes) == 1:
        return full_nodes
    held_at: dict[int, list[int]] = {}  # id of a rising class -> nodes of its binding constraints
    for constraint in binding:
        for group in constraint.members:
            if not group.frozen:
                held_at.setdefault(id(group), []).append(constraint.node)
    limiting = set()
    for constraint in binding:
        own = shared = False
        for group in constraint.members:
            if group.frozen or group.level > whole_level or group.cap <= whole_level:
                continue
            path = tree.path[group.leaf]
            below = path[: path.index(constraint.node)]
            if any(node in below for node in held_at[id(group)]):
                shared = True
            else:
                own = True
        if not shared or (level.denominator == 1 and own):
            limiting.add(constraint.node)
    return limiting


def _limiting_node(tree: _Tree, group: _Class, limiting: set[int], full_nodes: set[int]) -> int:
    """The node named as holding ``group`` back: the highest limiting node above it, else the
    highest full one."""
    named = fallback = None
    for i in tree.path[group.leaf]:
        if i in limiting:
            named = i
        elif i in full_nodes:
            fallback = i
    result = named if named is not None else fallback
    assert result is not None
    return result


def _freeze(group: _Class, floor: int, value: int) -> None:
    """The class stops at ``value``: from now on a constant load on each of its constraints."""
    group.frozen = True
    group.level = value
    for constraint in group.constraints:
        constraint.rising -= 1
        if not constraint.built:
            continue  # it is built with the class's final level
        weight = group.weight(constraint.kind)
        if constraint.at < floor:
            counted = floor  # the sweep has not reached its floor: it counts its floor
        elif constraint.at < group.cap:
            counted = constraint.at  # it was rising there
            constraint.slope -= weight
        else:
            counted = group.cap
        constraint.load += (value - counted) * weight
        constraint.stale = True


def _share_remainder(tree: _Tree, classes: list[_Class], room: list[list[int]]) -> None:
    """Hand out the 0.1 A steps that a fair level leaves on a full node: one step per session,
    by priority, node and kind of session, wherever every node above has room.  Sets each
    class's ``grant`` (its members get the steps in EVSE order)."""
    pending = [
        group
        for group in classes
        if group.limited_by is not None and group.level < group.cap and group.count
    ]
    pending.sort(
        key=lambda group: (
            -group.tier,
            group.node_id,
            group.minimum,
            group.cap,
            _line_set(group.lines),
            group.volts,
        )
    )
    while pending:
        again = []
        for group in pending:
            if group.level + group.grant // group.count >= group.cap:
                continue
            path = tree.path[group.leaf]
            steps = group.count  # at most one step per session
            for i in path:
                steps = _steps_that_fit(room[i], group, steps)
                if steps <= 0:
                    break
            if steps <= 0:
                continue
            for i in path:
                _add(room[i], group.lines, -steps, group.volts)
            group.grant += steps
            if steps == group.count:
                again.append(group)  # everyone got a step: there may be room for another
        pending = again


def _steps_that_fit(room: list[int], group: _Class, steps: int) -> int:
    """How many of ``steps`` 0.1 A steps for the class's sessions fit in a node's ``room``."""
    for line in group.lines:
        if room[line] < steps:
            steps = room[line]
    if room[POWER] < steps * group.volts:
        steps = room[POWER] // group.volts
    return steps


def _targets(classes: list[_Class], reserved: list[list[int]]) -> list[list[int]]:
    """Each session's fair limit (its class's level and its share of the remainder); returns
    what the stations will apply per node (before hysteresis), the reserves included."""
    applied = [row[:] for row in reserved]
    for group in classes:
        _add(applied[group.leaf], group.lines, group.level * group.count + group.grant, group.volts)
        if not group.grant:
            for record in group.members:
                record.target = group.level
            continue
        whole, part = divmod(group.grant, group.count)
        for rank, record in enumerate(sorted(group.members, key=_by_evse)):
            record.target = group.level + whole + (1 if rank < part else 0)
    return applied


def _by_evse(record: _Record) -> int:
    return record.evse


def _hysteresis(
    tree: _Tree,
    records: list[_Record],
    applied: list[list[int]],
    allocations: dict[int, Allocation],
    now: datetime,
    policy: Policy,
    first_gain: list[int | None],
) -> None:
    """Rule 6 and the results: each session's limit (a raise held back when it is too small or
    too soon), with the reason and the node that limits it; ``applied`` follows held limits."""
    raise_cutoff = now - policy.raise_interval
    for record in records:
        if record.arming:
            allocations[record.evse] = _scheduled(tree, record, applied)
            continue
        value = record.target
        node = None
        if record.paused:
            reason = Reason.PAUSED
            if record.paused_by is not None:
                node = tree.ids[record.paused_by]
        else:
            assert record.group is not None
            where = record.group.limited_by
            if where is None:
                reason = Reason.MAX if value >= record.maximum else Reason.VEHICLE
            else:
                node = tree.ids[where]
                gain = first_gain[where]
                if value <= record.minimum:
                    reason = Reason.MIN
                elif gain is not None and gain > record.session.priority:
                    reason = Reason.PRIORITY
                else:
                    reason = Reason.SHARE
        limit = value
        previous = record.previous
        if previous is not None:
            before = previous.limit_da
            # Hold a raise back, if holding ``before`` is still valid (0, or within range).
            if value > before and (before == 0 or record.minimum <= before <= record.hardware):
                too_soon = previous.changed_at is not None and previous.changed_at > raise_cutoff
                too_small = before > 0 and value - before < policy.hysteresis_da
                if too_soon or too_small:
                    limit = before
                    reason = Reason.HOLD
                    _add(applied[record.leaf], record.lines, before - value, record.volts)
        allocations[record.evse] = Allocation(record.evse, limit, reason, node, value)


def _scheduled(tree: _Tree, record: _Record, applied: list[list[int]]) -> Allocation:
    """A session starting within the lookahead: no current yet, its minimum reserved (when it
    fits) from its start on."""
    if record.paused:
        node = None if record.paused_by is None else tree.ids[record.paused_by]
        return Allocation(record.evse, 0, Reason.SCHEDULED, node)
    _add(applied[record.leaf], record.lines, record.minimum, record.volts)
    return Allocation(
        record.evse,
        0,
        Reason.SCHEDULED,
        scheduled_da=record.minimum,
        scheduled_at=record.session.starts_at,
    )


def _node_loads(
    snapshot: Snapshot,
    tree: _Tree,
    applied: list[list[int]],
    drawn: list[list[int]],
) -> dict[int, NodeLoad]:
    base = [[*node.load_da, node.load_w * 10] for node in snapshot.nodes]
    for rows in (base, applied, drawn):
        _rollup(tree, rows)
    return {
        node.id: NodeLoad(
            node.id,
            node.limit_da,
            node.limit_w,
            (base[i][0], base[i][1], base[i][2]),
            _watts(base[i][POWER]),
            (applied[i][0], applied[i][1], applied[i][2]),
            _watts(applied[i][POWER]),
            (drawn[i][0], drawn[i][1], drawn[i][2]),
        )
        for i, node in enumerate(snapshot.nodes)
    }


def _watts(power: int) -> int:
    """dA x V to W, rounded up."""
    return -(-power // 10)
