"""The one door from energy to power (the only module of this app that imports it).

Demand response and the building-management API lower a site's limits through power's own
services (issue 18: "an adapter that lowers site limits through power's own services"), so
allocation, profiles and the lowest-limit-wins rule stay power's alone. The import rule
(``tests/core/test_import_rules.py``) allows exactly this module to import ``apps.power``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet

from apps.power import selectors as power_selectors
from apps.power import services as power_services
from apps.power.choices import LimitSource
from apps.power.models import LimitOverride, NodeInterval, PowerNode
from apps.power.planning import quarter_of, window_active

__all__ = [
    "LimitOverride",
    "LimitSource",
    "NodeInterval",
    "PowerNode",
    "crossed",
    "limits_now",
    "override_create",
    "quarter_of",
    "rebalance_soon",
    "withdraw",
]


def limits_now(node: PowerNode, now: datetime) -> tuple[Decimal | None, Decimal | None]:
    """(amps per line, kW) in force on ``node`` at ``now`` (every window and override)."""
    return power_selectors.node_limits_now(node, now, ZoneInfo(node.site.timezone))


def capacity_kw(node: PowerNode, limit_a: Decimal | None, limit_kw: Decimal | None):
    """What the node can take in kW under these limits: its kW limit, or its amps per line
    times its voltage and number of lines, whichever is lower; None when neither is known."""
    values = []
    if limit_kw is not None:
        values.append(limit_kw)
    if limit_a is not None:
        lines = max(1, len(node.lines) // 2)  # "L1L2L3" -> 3
        values.append(limit_a * node.voltage_v * lines / 1000)
    return min(values) if values else None


def override_create(**fields) -> LimitOverride:
    return power_services.limit_override_create(**fields)


def withdraw(*, reference: str, at: datetime) -> int:
    return power_services.limit_overrides_withdraw(reference=reference, at=at)


def rebalance_soon(site_id: int) -> None:
    power_services.rebalance_soon(site_id)


def crossed(*, node_id: int, source: str, since: datetime, until: datetime) -> bool:
    """Whether an override of ``source`` on the node started or ended in (since, until]."""
    window = Q(starts_at__gt=since, starts_at__lte=until) | Q(ends_at__gt=since, ends_at__lte=until)
    return LimitOverride.objects.filter(window, node_id=node_id, source=source).exists()


def overrides(*, reference_prefix: str) -> QuerySet:
    return LimitOverride.objects.filter(reference__startswith=reference_prefix)


# --- Reads for building-management systems ---------------------------------------------------


def node_live(node: PowerNode, now: datetime) -> dict:
    """The node now: limits in force, the building's load, what charging is allowed and
    draws per line, and charging's share of the load."""
    view = power_selectors.node_load(node=node, now=now)
    charging_w = int(sum(view.drawn_a, Decimal(0)) * node.voltage_v)
    total_w = charging_w + view.load_w
    return {
        "node": node.pk,
        "at": now,
        "limit_a": view.limit_a,
        "limit_kw": view.limit_kw,
        "building_load_w": view.load_w,
        "allocated_a": list(view.allocated_a),
        "drawn_a": list(view.drawn_a),
        "charging_w": charging_w,
        "charging_share": (
            (Decimal(charging_w) / total_w).quantize(Decimal("0.001")) if total_w else None
        ),
        "limits": limits_explained(node, now),
    }


def limits_explained(node: PowerNode, now: datetime) -> list[dict]:
    """Every limit on the node now and where it comes from (the lowest of each unit applies)."""
    reasons = []
    if node.limit_a is not None:
        reasons.append({"source": "rating", "limit_a": node.limit_a, "limit_kw": None})
    if node.limit_kw is not None:
        reasons.append({"source": "power_limit", "limit_a": None, "limit_kw": node.limit_kw})
    if node.demand_cap_kw is not None:
        reasons.append({"source": "peak_cap", "limit_a": None, "limit_kw": node.demand_cap_kw})
    local = now.astimezone(ZoneInfo(node.site.timezone))
    for window in node.limit_windows.all():
        if window_active(window.weekdays, window.start_time, window.end_time, local):
            reasons.append(
                {"source": "window", "limit_a": window.limit_a, "limit_kw": window.limit_kw}
            )
    for override in node.overrides.all():
        if override.starts_at <= now and (override.ends_at is None or now < override.ends_at):
            reasons.append(
                {
                    "source": override.source,
                    "limit_a": override.limit_a,
                    "limit_kw": override.limit_kw,
                    "ends_at": override.ends_at,
                    "reference": override.reference,
                    "note": override.note,
                }
            )
    return reasons


def node_history(node: PowerNode, start: datetime, end: datetime) -> QuerySet:
    """The node's 15-minute intervals (power's record of each rebalance) in [start, end)."""
    return NodeInterval.objects.filter(node=node, start__gte=start, start__lt=end).order_by("start")


def node_history_many(node_ids: set[int], start: datetime, end: datetime) -> list[NodeInterval]:
    """The 15-minute intervals of several nodes in [start, end), in one query."""
    return list(NodeInterval.objects.filter(node_id__in=node_ids, start__gte=start, start__lt=end))


def building_load_report(*, node: PowerNode, load_w: int, at: datetime) -> None:
    power_services.node_load_report(node=node, load_w=load_w, at=at)


def withdraw_on(*, node: PowerNode, reference: str, at: datetime) -> int:
    return power_services.limit_overrides_withdraw(reference=reference, at=at, node=node)
