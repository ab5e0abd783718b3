from django.db import models
from django.utils.translation import gettext_lazy as _


class PlanTier(models.TextChoices):
    """The three cloud plans of the datasheet; each is sold for 1 to 5 years."""

    COMMERCIAL = "commercial", _("Commercial Level 2")
    DC = "dc", _("Commercial DC")
    EXPRESS_PLUS = "express_plus", _("Commercial Express Plus")


class PortPlanStatus(models.TextChoices):
    ACTIVE = "active", _("Covered")
    GRACE = "grace", _("Expired, in grace period")
    LAPSED = "lapsed", _("Lapsed: new sessions refused")
    UNCOVERED = "uncovered", _("No plan: new sessions refused")
    NOT_ENFORCED = "not_enforced", _("Plans not in use")


REFUSING = {PortPlanStatus.LAPSED, PortPlanStatus.UNCOVERED}
