"""Reads: seats of orders, and the plan status of ports (what the policy and the pages show).

A port's status on a day (the tenant's local day):

- ``active``: it holds a seat of an order that has not expired (``day < expires_on``);
- ``grace``: the order expired less than ``PLANS_GRACE_DAYS`` ago: sessions still start, the
  portal warns;
- ``lapsed``: after the grace period: new sessions are refused, the station stays connected
  and keeps reporting status and meter values;
- ``uncovered``: the tenant has plan orders but this port holds no seat: refused too;
- ``not_enforced``: the tenant has no plan order at all (demo and self-hosted tenants): the
  platform enforces nothing.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from . import conf
from .choices import REFUSING, PortPlanStatus
from .models import PlanOrder, PortActivation


@dataclass(frozen=True)
class PortPlan:
    station_pk: int
    evse_id: int
    status: str
    order: PlanOrder | None = None
    activation: PortActivation | None = None

    @property
    def expires_on(self) -> dt.date | None:
        return self.order.expires_on if self.order else None

    @property
    def grace_until(self) -> dt.date | None:
        if self.order is None:
            return None
        return self.order.expires_on + dt.timedelta(days=conf.grace_days())

    @property
    def refuses_sessions(self) -> bool:
        return self.status in REFUSING

    def get_status_display(self) -> str:
        return PortPlanStatus(self.status).label


def tenant_today(tenant) -> dt.date:
    """The tenant's local date (plans are sold in days of the customer's calendar)."""
    zone = zoneinfo.ZoneInfo(getattr(tenant, "timezone", "") or "UTC")
    return timezone.now().astimezone(zone).date()


def plan_orders_with_seats(queryset: QuerySet[PlanOrder] | None = None) -> QuerySet[PlanOrder]:
    queryset = PlanOrder.objects.all() if queryset is None else queryset
    return queryset.annotate(
        seats_used=Count("activations", filter=Q(activations__released_at__isnull=True))
    ).order_by("expires_on", "pk")


def status_of_activation(activation: PortActivation | None, *, day: dt.date, enforced: bool):
    if activation is None:
        return PortPlanStatus.UNCOVERED if enforced else PortPlanStatus.NOT_ENFORCED
    expires = activation.order.expires_on
    if day < expires:
        return PortPlanStatus.ACTIVE
    if day < expires + dt.timedelta(days=conf.grace_days()):
        return PortPlanStatus.GRACE
    return PortPlanStatus.LAPSED


def plans_enforced(*, tenant) -> bool:
    return PlanOrder.every_tenant.filter(tenant_id=tenant.pk).exists()


def port_plans(
    *, tenant, ports: list[tuple[int, int]], day: dt.date | None = None
) -> dict[tuple[int, int], PortPlan]:
    """The plan of each (station pk, evse id) in two queries."""
    day = day or tenant_today(tenant)
    enforced = plans_enforced(tenant=tenant)
    station_pks = {station_pk for station_pk, _ in ports}
    activations = {
        (a.station_pk, a.evse_id): a
        for a in PortActivation.every_tenant.select_related("order").filter(
            tenant_id=tenant.pk, station_pk__in=station_pks, released_at__isnull=True
        )
    }
    answer = {}
    for port in ports:
        activation = activations.get(port)
        answer[port] = PortPlan(
            station_pk=port[0],
            evse_id=port[1],
            status=status_of_activation(activation, day=day, enforced=enforced),
            order=activation.order if activation else None,
            activation=activation,
        )
    return answer


def station_port_plans(*, tenant, station, day: dt.date | None = None) -> list[PortPlan]:
    numbers = list(station.evses.order_by("evse_id").values_list("evse_id", flat=True))
    plans = port_plans(tenant=tenant, ports=[(station.pk, n) for n in numbers], day=day)
    return [plans[(station.pk, n)] for n in numbers]


def orders_due_for_reminder(
    *, today: dt.date, days_before: int, more_than: int = 0
) -> QuerySet[PlanOrder]:
    """Orders of every tenant expiring in more than ``more_than`` and at most ``days_before``
    days (the window up to the next threshold, so that a missed day of beat still sends it
    and an order ordered late gets only the nearest reminder), not renewed, not yet reminded
    at that threshold."""
    return (
        PlanOrder.every_tenant.select_related("tenant")
        .filter(
            expires_on__gt=today + dt.timedelta(days=more_than),
            expires_on__lte=today + dt.timedelta(days=days_before),
            renewed_by__isnull=True,
        )
        .exclude(reminders__days_before=days_before)
    )
