"""Cloud plans live in the public schema: the platform operator records what each tenant
ordered, and a port's coverage must be known without trusting the tenant's own tables.

Station and port numbers in ``PortActivation`` are the tenant schema's ids (a public table
cannot hold a foreign key into a tenant schema); every read from a tenant's portal or API goes
through ``TenantPlanManager``, which keeps only the current tenant's rows.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models
from django.utils.translation import gettext_lazy as _
from django_tenants.utils import get_public_schema_name

from apps.core.scoping import RestrictedManager

from .choices import PlanTier


def add_years(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` later (29 February → 1 March in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 3, 1)


class TenantPlanManager(RestrictedManager):
    """Inside a tenant's schema, only that tenant's rows; in the public schema (the operator's
    admin, beat tasks) every tenant's.  Plans have no site: ``restrict`` lets through only an
    actor holding the permission on all sites."""

    def get_queryset(self):
        queryset = super().get_queryset()
        tenant = getattr(connection, "tenant", None)
        if tenant is None or connection.schema_name == get_public_schema_name():
            return queryset
        return queryset.filter(tenant_id=tenant.pk)


class EveryTenantManager(models.Manager):
    """Every tenant's rows, for the platform's own work (policy, reminders, admin)."""


class PlanOrder(models.Model):
    """An order of ``quantity`` port seats of one plan for ``years``, from ``starts_on`` to
    ``expires_on`` (the first day it no longer covers)."""

    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="plan_orders"
    )
    order_code = models.CharField(_("order code"), max_length=40)
    ordered_code = models.CharField(
        _("code as ordered"), max_length=40, help_text=_("An obsolete code stays visible here.")
    )
    tier = models.CharField(_("plan"), max_length=20, choices=PlanTier.choices)
    years = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    quantity = models.PositiveIntegerField(_("ports"), validators=[MinValueValidator(1)])
    starts_on = models.DateField(_("starts on"))
    expires_on = models.DateField(_("expires on"))
    reference = models.CharField(_("purchase order"), max_length=80, blank=True)
    renews = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="renewed_by"
    )
    recorded_by = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantPlanManager()
    every_tenant = EveryTenantManager()
    scope_site_path = None  # the whole tenant's: only for actors holding it on every site

    class Meta:
        ordering = ["expires_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(years__gte=1, years__lte=5), name="plans_order_years_1_5"
            ),
            models.CheckConstraint(
                condition=models.Q(expires_on__gt=models.F("starts_on")),
                name="plans_order_expires_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_code} × {self.quantity} ({self.starts_on}–{self.expires_on})"

    def clean(self) -> None:
        if (
            self.starts_on
            and self.years
            and self.expires_on != add_years(self.starts_on, self.years)
        ):
            raise ValidationError({"expires_on": _("An order lasts exactly its years.")})


class PortActivation(models.Model):
    """A port (an EVSE of a station in the tenant's schema) holding one seat of an order until
    released."""

    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="plan_activations"
    )
    order = models.ForeignKey(PlanOrder, on_delete=models.PROTECT, related_name="activations")
    station_pk = models.PositiveIntegerField(_("station id"))
    evse_id = models.PositiveIntegerField(_("port"))
    station_identity = models.CharField(_("station"), max_length=48)
    activated_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)

    objects = TenantPlanManager()
    every_tenant = EveryTenantManager()
    scope_site_path = None  # the whole tenant's: only for actors holding it on every site

    class Meta:
        ordering = ["station_identity", "evse_id", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "station_pk", "evse_id"],
                condition=models.Q(released_at__isnull=True),
                name="plans_one_active_seat_per_port",
            )
        ]
        indexes = [models.Index(fields=["tenant", "station_pk"])]

    def __str__(self) -> str:
        return f"{self.station_identity} #{self.evse_id} → {self.order.order_code}"


class PlanReminder(models.Model):
    """A renewal reminder sent (its row is the claim: one per order and threshold)."""

    order = models.ForeignKey(PlanOrder, on_delete=models.CASCADE, related_name="reminders")
    days_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField()
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "days_before"], name="plans_reminder_once")
        ]

    def __str__(self) -> str:
        return f"{self.order} − {self.days_before} days"
