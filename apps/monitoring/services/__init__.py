"""Monitoring's writes: alerts.  (Remote control of stations is the OCPP command service's,
``apps.ocpp.commands``.)"""

from .alerts import (
    AlertClosed,
    SweepResult,
    alert_acknowledge,
    alert_clear,
    alert_data,
    alert_notify,
    alert_raise,
    alert_resolve,
    alert_severity,
    alert_subscription_set,
    alerts_clear,
    monitoring_sweep,
    offline_grace,
    port_status_observed,
    portal_url,
)

__all__ = [
    "AlertClosed",
    "SweepResult",
    "alert_acknowledge",
    "alert_clear",
    "alerts_clear",
    "alert_data",
    "alert_notify",
    "alert_raise",
    "alert_resolve",
    "alert_severity",
    "alert_subscription_set",
    "monitoring_sweep",
    "offline_grace",
    "port_status_observed",
    "portal_url",
]
