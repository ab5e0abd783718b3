from django.db import models
from django.utils.translation import gettext_lazy as _


class WebhookEvent(models.TextChoices):
    """What integrators can subscribe to: the events of ``apps.core.events`` of the same names
    (``alert.*`` are emitted by ``apps.monitoring``), and ``ping``."""

    STATION_STATUS_CHANGED = "station.status_changed", _("A port's status changed")
    STATION_CONNECTED = "station.connected", _("A station connected")
    STATION_DISCONNECTED = "station.disconnected", _("A station disconnected")
    SESSION_STARTED = "session.started", _("A charging session started")
    SESSION_ENDED = "session.ended", _("A charging session ended")
    ALERT_RAISED = "alert.raised", _("An alert was raised")
    ALERT_CLEARED = "alert.cleared", _("An alert was cleared")
    PING = "ping", _("Test delivery (sent on request)")
    # emitted by apps.fleet
    VEHICLE_SESSION_STARTED = "vehicle.session_started", _("A fleet vehicle started charging")
    VEHICLE_SESSION_ENDED = "vehicle.session_ended", _("A fleet vehicle stopped charging")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    RETRYING = "retrying", _("Failed, will be retried")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Given up")
