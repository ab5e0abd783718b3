from django.db import models
from django.utils.translation import gettext_lazy as _


class EntryStatus(models.TextChoices):
    # Joined from the public page: waits for the card's tap at a station of the queue (the
    # proof that the driver holds the card) before it takes a place.
    UNCONFIRMED = "unconfirmed", _("Waiting for the card's tap")
    WAITING = "waiting", _("Waiting")
    HELD = "held", _("Port held")
    CHARGING = "charging", _("Charging")
    LEFT = "left", _("Left the queue")
    DROPPED = "dropped", _("Dropped after no-shows")


class JoinedVia(models.TextChoices):
    TAP = "tap", _("Card tap at a station")
    PAGE = "page", _("Driver page")
    API = "api", _("API")
    PORTAL = "portal", _("Portal")


class ReservationState(models.TextChoices):
    NONE = "", _("None")
    SENT = "sent", _("Sent to the station")
    ACCEPTED = "accepted", _("Accepted by the station")
    REFUSED = "refused", _("Refused by the station")


ACTIVE_STATUSES = (EntryStatus.WAITING, EntryStatus.HELD)
