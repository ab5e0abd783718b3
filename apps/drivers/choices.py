from django.db import models
from django.utils.translation import gettext_lazy as _


class Access(models.TextChoices):
    PUBLIC = "public", _("Public: anyone may charge")
    MEMBERS = "members", _("Members only: a card of this network")


class CardStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for verification")
    VERIFIED = "verified", _("Verified")


class CardVerifiedBy(models.TextChoices):
    CODE = "code", _("Code printed on the card")
    TAP = "tap", _("Tapped at a station")


class TipStatus(models.TextChoices):
    PUBLISHED = "published", _("Published")
    HIDDEN = "hidden", _("Hidden by a moderator")
    FLAGGED = "flagged", _("Voted down: waiting for a moderator")
