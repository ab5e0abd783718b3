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

__all__ = [
    "LimitOverride",
    "LimitSource",
    "NodeInterval",
    "PowerNode",
    "crossed",
    "limits_now",
    "override_create",
    "rebalance_soon",
    "withdraw",
]


def limits_now(node: PowerNode, now: datetime) -> tuple[Decimal | None, Decimal | None]:
    """(amps per line, kW) in force on ``node`` at ``now`` (every window and override)."""
    return power_selectors.node_limits_now(node, now, ZoneInfo(node.site.timezone))


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
