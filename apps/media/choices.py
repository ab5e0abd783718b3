from django.db import models
from django.utils.translation import gettext_lazy as _


class AssetKind(models.TextChoices):
    VIDEO = "video", _("Video")
    IMAGE = "image", _("Image")


class DeliveryStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    CONFIRMED = "confirmed", _("Confirmed by the station")
    REJECTED = "rejected", _("Rejected by the station")
    REFUSED = "refused", _("Not sent: the station has no screen")
    FAILED = "failed", _("Not delivered")
