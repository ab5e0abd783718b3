from django.db import models
from django.utils.translation import gettext_lazy as _


class AssetKind(models.TextChoices):
    VIDEO = "video", _("Video")
    IMAGE = "image", _("Image")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    CONFIRMED = "confirmed", _("Confirmed by the station")
    REJECTED = "rejected", _("Rejected by the station")
    REFUSED = "refused", _("Not sent: the station has no screen")
    FAILED = "failed", _("Not delivered")


# Deliveries that a station still has to get (sent again when it reconnects, or by the retry);
# one stuck in "sent" (its worker died before the answer) is made failed by the retry.
UNDELIVERED = {DeliveryStatus.PENDING, DeliveryStatus.FAILED}
