"""Monitoring's writes: alerts (``alerts``) and remote control of stations (``remote``)."""

from .alerts import (
    SweepResult,
    alert_clear,
    alert_data,
    alert_notify,
    alert_raise,
    alert_subscription_set,
    monitoring_sweep,
    offline_grace,
    port_status_observed,
    portal_url,
)
from .remote import (
    CommandOutcome,
    Origin,
    session_remote_start,
    session_remote_stop,
    station_change_availability,
    station_configuration_change,
    station_configuration_read,
    station_reset,
    station_trigger_message,
    station_unlock,
)

__all__ = [
    "CommandOutcome",
    "Origin",
    "SweepResult",
    "alert_clear",
    "alert_data",
    "alert_notify",
    "alert_raise",
    "alert_subscription_set",
    "monitoring_sweep",
    "offline_grace",
    "port_status_observed",
    "portal_url",
    "session_remote_start",
    "session_remote_stop",
    "station_change_availability",
    "station_configuration_change",
    "station_configuration_read",
    "station_reset",
    "station_trigger_message",
    "station_unlock",
]
