"""What monitoring adds to other apps' pages (registered in ``MonitoringConfig.ready``): on
the station page, uptime among the details, the latest alerts and the remote-control forms;
on the dashboard, the open-alert count and the recent alerts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import F
from django.utils import timezone

from apps.core import panels
from apps.core.scoping import Actor
from apps.stations.models import Station

from .forms import command_forms, command_groups
from .models import Alert
from .selectors import alert_list, station_uptime

DASHBOARD_RECENT_ALERTS = 8


def station_uptime_panel(*, obj: Station, actor: Actor) -> dict[str, Any]:
    now = timezone.now()
    return {
        f"uptime_{days}": station_uptime(
            stations=[obj], start=now - dt.timedelta(days=days), end=now
        ).get(obj.pk)
        for days in (7, 30)
    }


def station_alerts_panel(*, obj: Station, actor: Actor) -> dict[str, Any]:
    alerts = (
        Alert.objects.restrict(actor, "stations.view")
        .filter(station=obj)
        .select_related("evse")
        .order_by(F("cleared_at").desc(nulls_first=True), "-raised_at")
    )
    return {"alerts": list(alerts[:10])}


def station_remote_control_panel(*, obj: Station, actor: Actor) -> dict[str, Any]:
    forms = command_forms(station=obj, actor=actor)
    return {"forms": forms, "groups": command_groups(forms, obj)}


def dashboard_open_alerts_panel(*, obj: None, actor: Actor) -> dict[str, Any]:
    return {"open_alert_count": alert_list(actor=actor).filter(cleared_at__isnull=True).count()}


def dashboard_recent_alerts_panel(*, obj: None, actor: Actor) -> dict[str, Any]:
    return {"recent_alerts": list(alert_list(actor=actor)[:DASHBOARD_RECENT_ALERTS])}


PANELS = (
    panels.Panel(
        page=panels.STATION,
        slot="facts",
        name="monitoring.uptime",
        template_name="monitoring/_station_uptime.html",
        permission="stations.view",
        context=station_uptime_panel,
    ),
    panels.Panel(
        page=panels.STATION,
        slot="full",
        name="monitoring.remote_control",
        template_name="monitoring/_station_remote_control.html",
        permission=("stations.command", "stations.configure"),
        context=station_remote_control_panel,
    ),
    panels.Panel(
        page=panels.STATION,
        slot="column",
        name="monitoring.alerts",
        template_name="monitoring/_station_alerts.html",
        permission="stations.view",
        context=station_alerts_panel,
    ),
    panels.Panel(
        page=panels.DASHBOARD,
        slot="figures",
        name="monitoring.open_alerts",
        template_name="monitoring/_dashboard_open_alerts.html",
        permission="stations.view",
        context=dashboard_open_alerts_panel,
    ),
    panels.Panel(
        page=panels.DASHBOARD,
        slot="column",
        name="monitoring.recent_alerts",
        template_name="monitoring/_dashboard_recent_alerts.html",
        permission="stations.view",
        context=dashboard_recent_alerts_panel,
    ),
)


def register_panels() -> None:
    for panel in PANELS:
        panels.register(panel)
