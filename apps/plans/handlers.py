"""What the core asks of cloud plans, and what plans show on the core's pages."""

from __future__ import annotations

from django.db import connection

from apps.charging.choices import AuthorizationStatus
from apps.charging.services import AuthorizationDecision
from apps.stations.models import Evse

from . import selectors


def _tenant():
    tenant = getattr(connection, "tenant", None)
    if tenant is None or getattr(tenant, "pk", None) is None:
        return None
    return tenant


def authorization(*, station_id: int, evse_id: int | None = None, **_) -> object | None:
    """Refuse new sessions on a port whose plan lapsed (or that holds no seat, once the tenant
    uses plans).  Without a port (1.6 Authorize, 2.0.1 Authorize) refuse only when no port of
    the station may start.  Abstains otherwise so that the other rules decide."""
    tenant = _tenant()
    if tenant is None or not selectors.plans_enforced(tenant=tenant):
        return None
    if evse_id:
        ports = [(station_id, evse_id)]
    else:
        numbers = Evse.objects.filter(station_id=station_id).values_list("evse_id", flat=True)
        ports = [(station_id, number) for number in numbers]
    if not ports:
        return None
    plans = selectors.port_plans(tenant=tenant, ports=ports)
    if all(plan.refuses_sessions for plan in plans.values()):
        return AuthorizationDecision(AuthorizationStatus.BLOCKED)
    return None


def station_plan_panel(*, obj, actor) -> dict:
    tenant = _tenant()
    if tenant is None:
        return {"ports": []}
    return {"ports": selectors.station_port_plans(tenant=tenant, station=obj)}
