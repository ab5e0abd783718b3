"""Power management (tenant schema): each site's electrical tree and its limits, how stations
and EVSEs hang on it, per-session preferences, the live allocation with what the stations
acknowledged, and 15-minute history for the capacity planner.

Currents are Decimal amps with one decimal (what OCPP accepts); the allocation works in
integer deciamps (``*_da``).  Times are UTC; the windows' times of day are the site's local time.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.scoping import RestrictedManager

from .choices import (
    EVERY_DAY,
    AlertKind,
    AllocationReason,
    LimitSource,
    Lines,
    NodeKind,
    PhaseRotation,
    PushState,
    RateUnit,
    ScheduleMode,
    Wiring,
)

TENTH = Decimal("0.1")
AMPS = {"max_digits": 7, "decimal_places": 1}
KILOWATTS = {"max_digits": 10, "decimal_places": 3}
NON_NEGATIVE = [MinValueValidator(Decimal("0"))]
VOLTAGE_VALIDATORS = [MinValueValidator(100), MaxValueValidator(1000)]
FACTOR_VALIDATORS = [MinValueValidator(Decimal("0.50")), MaxValueValidator(Decimal("1.00"))]


def validate_weekdays(value: int) -> None:
    if not 0 < value <= EVERY_DAY:
        raise ValidationError(_("Choose at least one day of the week."))


class PowerNode(models.Model):
    """A point of a site's electrical tree that has a limit: the site supply, a panel, a
    sub-panel or a circuit.  Children's loads count on every ancestor."""

    site = models.ForeignKey("stations.Site", on_delete=models.CASCADE, related_name="power_nodes")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(max_length=10, choices=NodeKind.choices, default=NodeKind.PANEL)
    lines = models.CharField(_("lines"), max_length=6, choices=Lines.choices, default=Lines.THREE)
    voltage_v = models.PositiveSmallIntegerField(
        _("voltage, line to neutral"), default=230, validators=VOLTAGE_VALIDATORS
    )
    rating_a = models.DecimalField(
        _("breaker or fuse rating (A per line)"),
        null=True,
        blank=True,
        validators=NON_NEGATIVE,
        **AMPS,
    )
    continuous_factor = models.DecimalField(
        _("continuous-load factor"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.80"),
        validators=FACTOR_VALIDATORS,
        help_text=_("EV charging is a continuous load: most codes allow 80 % of the rating."),
    )
    limit_kw = models.DecimalField(
        _("power limit (kW)"), null=True, blank=True, validators=NON_NEGATIVE, **KILOWATTS
    )
    demand_cap_kw = models.DecimalField(
        _("peak-demand cap (kW)"),
        null=True,
        blank=True,
        help_text=_("Keeps the total under this, building load included, to cut demand charges."),
        validators=NON_NEGATIVE,
        **KILOWATTS,
    )
    measured_load_w = models.IntegerField(_("measured building load (W)"), null=True, blank=True)
    measured_load_at = models.DateTimeField(null=True, blank=True)
    fallback_load_kw = models.DecimalField(
        _("building load assumed without a measurement or schedule (kW)"),
        default=Decimal("0"),
        validators=[MinValueValidator(0)],
        **KILOWATTS,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()
    scope_site_path = "site"

    class Meta:
        ordering = ["site", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="power_node_name_per_site"),
            models.CheckConstraint(
                condition=models.Q(continuous_factor__gte=Decimal("0.5"))
                & models.Q(continuous_factor__lte=Decimal("1")),
                name="power_node_factor_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.parent_id is None:
            return
        if self.parent.site_id != self.site_id:
            raise ValidationError({"parent": _("The parent must be on the same site.")})
        ancestor = self.parent
        while ancestor is not None:
            if self.pk is not None and ancestor.pk == self.pk:
                raise ValidationError({"parent": _("A node cannot be inside itself.")})
            ancestor = ancestor.parent

    @property
    def limit_a(self) -> Decimal | None:
        """The continuous current allowed per line: rating x factor, rounded down to 0.1 A."""
        if self.rating_a is None:
            return None
        return (self.rating_a * self.continuous_factor).quantize(TENTH, rounding=ROUND_DOWN)


class Window(models.Model):
    """Days of the week and a local time span (``end`` at or before ``start`` runs overnight)."""

    weekdays = models.PositiveSmallIntegerField(
        default=EVERY_DAY,
        validators=[validate_weekdays],
        help_text=_("Bit mask, Monday = 1, Tuesday = 2, Wednesday = 4 ..."),
    )
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        abstract = True


class LimitWindow(Window):
    """A lower limit at some hours (a peak-hours cap, a tariff's demand window)."""

    node = models.ForeignKey(PowerNode, on_delete=models.CASCADE, related_name="limit_windows")
    limit_a = models.DecimalField(null=True, blank=True, validators=NON_NEGATIVE, **AMPS)
    limit_kw = models.DecimalField(null=True, blank=True, validators=NON_NEGATIVE, **KILOWATTS)

    objects = RestrictedManager()
    scope_site_path = "node__site"

    class Meta:
        ordering = ["node", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(limit_a__isnull=False) | models.Q(limit_kw__isnull=False),
                name="power_limit_window_has_limit",
            )
        ]

    def __str__(self) -> str:
        return f"{self.node} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class LoadWindow(Window):
    """The building's other loads on a node by time of day, when there is no meter."""

    node = models.ForeignKey(PowerNode, on_delete=models.CASCADE, related_name="load_windows")
    load_kw = models.DecimalField(validators=[MinValueValidator(0)], **KILOWATTS)

    objects = RestrictedManager()
    scope_site_path = "node__site"

    class Meta:
        ordering = ["node", "start_time"]

    def __str__(self) -> str:
        return f"{self.node} {self.load_kw} kW {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class LimitOverride(models.Model):
    """A temporary limit on a node: set from the portal, by a building-management system
    through the API, or by a demand-response event.  The lowest active one applies."""

    node = models.ForeignKey(PowerNode, on_delete=models.CASCADE, related_name="overrides")
    limit_a = models.DecimalField(null=True, blank=True, validators=NON_NEGATIVE, **AMPS)
    limit_kw = models.DecimalField(null=True, blank=True, validators=NON_NEGATIVE, **KILOWATTS)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=20, choices=LimitSource.choices)
    reference = models.CharField(max_length=120, blank=True)
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()
    scope_site_path = "node__site"

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["node", "ends_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(limit_a__isnull=False) | models.Q(limit_kw__isnull=False),
                name="power_override_has_limit",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True)
                | models.Q(ends_at__gt=models.F("starts_at")),
                name="power_override_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.node} {self.limit_a or ''}A {self.limit_kw or ''}kW ({self.source})"


class StationPower(models.Model):
    """Where a station hangs in the tree, its power selection and smart-charging abilities."""

    station = models.OneToOneField(
        "stations.Station", on_delete=models.CASCADE, related_name="power"
    )
    node = models.ForeignKey(
        PowerNode, null=True, blank=True, on_delete=models.PROTECT, related_name="stations"
    )
    breaker_rating_a = models.DecimalField(
        _("rating of the breaker feeding the station (A)"), null=True, blank=True, **AMPS
    )
    continuous_factor = models.DecimalField(
        max_digits=3, decimal_places=2, default=Decimal("0.80"), validators=FACTOR_VALIDATORS
    )
    selected_max_a = models.DecimalField(
        _("station maximum from power selection (A per phase)"),
        null=True,
        blank=True,
        **AMPS,
    )
    rate_unit = models.CharField(max_length=1, choices=RateUnit.choices, default=RateUnit.AMPS)
    max_stack_level = models.PositiveSmallIntegerField(
        default=0, help_text=_("Highest stack level the station takes (0 until it tells us).")
    )
    capabilities_at = models.DateTimeField(null=True, blank=True)
    defaults_pushed_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()
    scope_site_path = "station__site"

    class Meta:
        ordering = ["station"]

    def __str__(self) -> str:
        return f"{self.station} on {self.node or '-'}"

    def clean(self) -> None:
        if self.node_id and self.node.site_id != self.station.site_id:
            raise ValidationError({"node": _("The node must be on the station's site.")})


class EvsePower(models.Model):
    """How an EVSE is wired: which grid lines its phases load."""

    evse = models.OneToOneField("stations.Evse", on_delete=models.CASCADE, related_name="power")
    wiring = models.CharField(max_length=14, choices=Wiring.choices, default=Wiring.THREE_PHASE)
    rotation = models.CharField(
        _("phase rotation"), max_length=3, choices=PhaseRotation.choices, default="RST"
    )
    volts = models.PositiveSmallIntegerField(
        _("voltage across each phase"), default=230, validators=[MinValueValidator(100)]
    )
    idle_current_a = models.DecimalField(
        _("default limit without a session (A)"),
        default=Decimal("0"),
        validators=[MinValueValidator(0)],
        help_text=_("What a new session may draw before the next allocation; 0 is safest."),
        **AMPS,
    )

    objects = RestrictedManager()
    scope_site_path = "evse__station__site"

    class Meta:
        ordering = ["evse"]

    def __str__(self) -> str:
        return f"{self.evse}: {self.get_wiring_display()} {self.rotation}"


class ChargingRule(models.Model):
    """Preferences for the sessions of a site, or of a driver group (tokens whose OCPP group
    id is ``token_group``): priority, minimum current and scheduled charging.  The first active
    rule (by ``position``) that matches a session applies."""

    site = models.ForeignKey("stations.Site", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    position = models.PositiveSmallIntegerField(default=0)
    token_group = models.CharField(
        _("driver group (token group id)"),
        max_length=64,
        blank=True,
        help_text=_("Blank: every session of the site."),
    )
    priority = models.SmallIntegerField(default=0)
    min_current_a = models.DecimalField(
        default=Decimal("6"), validators=[MinValueValidator(Decimal("6"))], **AMPS
    )
    mode = models.CharField(
        max_length=10, choices=ScheduleMode.choices, default=ScheduleMode.IMMEDIATE
    )
    start_time = models.TimeField(null=True, blank=True)
    departure_time = models.TimeField(null=True, blank=True)
    energy_kwh = models.DecimalField(
        _("energy to plan for (kWh)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        **KILOWATTS,
    )
    is_active = models.BooleanField(default=True)

    objects = RestrictedManager()
    scope_site_path = "site"

    class Meta:
        ordering = ["site", "position", "pk"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.mode == ScheduleMode.START_AT and self.start_time is None:
            raise ValidationError({"start_time": _("Choose when charging starts.")})
        if self.mode == ScheduleMode.CHEAPEST and self.departure_time is None:
            raise ValidationError({"departure_time": _("Choose the departure time.")})


class EnergyRate(Window):
    """What the site pays for energy at some hours (time-of-use), for cheapest-hours charging."""

    site = models.ForeignKey("stations.Site", on_delete=models.CASCADE, related_name="+")
    price_per_kwh = models.DecimalField(
        max_digits=10, decimal_places=5, validators=[MinValueValidator(0)]
    )
    label = models.CharField(max_length=60, blank=True)

    objects = RestrictedManager()
    scope_site_path = "site"

    class Meta:
        ordering = ["site", "start_time"]

    def __str__(self) -> str:
        return f"{self.label or 'rate'} {self.price_per_kwh}/kWh"


class SessionPower(models.Model):
    """What power management knows of a running session."""

    session = models.OneToOneField(
        "charging.ChargingSession", on_delete=models.CASCADE, related_name="power"
    )
    rule = models.ForeignKey(
        ChargingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    priority = models.SmallIntegerField(default=0)
    min_current_a = models.DecimalField(default=Decimal("6"), **AMPS)
    max_current_a = models.DecimalField(null=True, blank=True, **AMPS)
    departure_at = models.DateTimeField(null=True, blank=True)
    ev_needs_at = models.DateTimeField(
        _("vehicle's needs received"),
        null=True,
        blank=True,
        help_text=_("When an ISO 15118 vehicle last told its needs (OCPP 2.0.1 K15, K17)."),
    )
    max_schedule_periods = models.PositiveSmallIntegerField(
        _("most periods the vehicle takes per schedule"),
        null=True,
        blank=True,
        help_text=_("From the vehicle's maxScheduleTuples (OCPP 2.0.1 NotifyEVChargingNeeds)."),
    )
    starts_at = models.DateTimeField(
        _("scheduled start"), null=True, blank=True, help_text=_("No current before this.")
    )
    vehicle_phases = models.PositiveSmallIntegerField(null=True, blank=True)
    draw_a = models.DecimalField(
        _("highest current drawn on a phase"), null=True, blank=True, **AMPS
    )
    draw_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()
    scope_site_path = "session__station__site"

    class Meta:
        ordering = ["session"]

    def __str__(self) -> str:
        return f"{self.session}: priority {self.priority}"


class EvseAllocation(models.Model):
    """The live allocation of an EVSE and what its station acknowledged: the memory of
    hysteresis and rotation, and of profiles to push or retry."""

    evse = models.OneToOneField(
        "stations.Evse", on_delete=models.CASCADE, related_name="allocation"
    )
    limit_da = models.IntegerField(default=0)
    target_da = models.IntegerField(default=0)
    reason = models.CharField(max_length=10, choices=AllocationReason.choices, blank=True)
    node = models.ForeignKey(
        PowerNode, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scheduled_da = models.IntegerField(default=0)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)
    since = models.DateTimeField()
    session = models.ForeignKey(
        "charging.ChargingSession",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    pushed_da = models.IntegerField(null=True, blank=True)
    pushed_scheduled_at = models.DateTimeField(null=True, blank=True)
    pushed_session = models.ForeignKey(
        "charging.ChargingSession",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    pushed_at = models.DateTimeField(null=True, blank=True)
    push_state = models.CharField(
        max_length=12, choices=PushState.choices, default=PushState.SYNCED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedManager()
    scope_site_path = "evse__station__site"

    class Meta:
        ordering = ["evse"]
        indexes = [models.Index(fields=["push_state"])]

    def __str__(self) -> str:
        return f"{self.evse}: {self.limit_da / 10:g} A ({self.reason})"

    @property
    def limit_a(self) -> Decimal:
        return Decimal(self.limit_da) / 10


class PowerAlert(models.Model):
    station = models.ForeignKey(
        "stations.Station", on_delete=models.CASCADE, related_name="power_alerts"
    )
    evse = models.ForeignKey(
        "stations.Evse", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=AlertKind.choices)
    message = models.CharField(max_length=255)
    created_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()
    scope_site_path = "station__site"

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["station", "resolved_at"])]

    def __str__(self) -> str:
        return f"{self.station}: {self.message}"


class NodeInterval(models.Model):
    """A node's load over 15 minutes, folded from each rebalance (the planner's history)."""

    node = models.ForeignKey(PowerNode, on_delete=models.CASCADE, related_name="intervals")
    start = models.DateTimeField()
    samples = models.PositiveIntegerField(default=0)
    drawn_w_sum = models.BigIntegerField(default=0)
    drawn_w_max = models.IntegerField(default=0)
    base_w_sum = models.BigIntegerField(default=0)
    allocated_w_sum = models.BigIntegerField(default=0)
    sessions_max = models.PositiveIntegerField(default=0)
    limit_w = models.IntegerField(null=True, blank=True)

    objects = RestrictedManager()
    scope_site_path = "node__site"

    class Meta:
        ordering = ["node", "start"]
        constraints = [
            models.UniqueConstraint(fields=["node", "start"], name="power_interval_once")
        ]

    def __str__(self) -> str:
        return f"{self.node} @ {self.start:%Y-%m-%d %H:%M}"

    @property
    def drawn_w(self) -> int:
        return self.drawn_w_sum // self.samples if self.samples else 0

    @property
    def base_w(self) -> int:
        return self.base_w_sum // self.samples if self.samples else 0
