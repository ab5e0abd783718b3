"""OpenADR 2.0b virtual end nodes (one per site) and the demand-response events they receive.

An event never writes a site's limits itself: it becomes time-bounded ``power.LimitOverride``
rows (source ``demand_response``, reference ``openadr-event:<pk>``) made through power's
services, so an event ends on time even when the VTN is never heard from again.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.scoping import RestrictedManager

from . import keys, pem
from .choices import EventStatus, Opt, OptSource, PollOutcome, SignalKind

PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


class Ven(models.Model):
    """This site's OpenADR 2.0b VEN: how to reach the VTN, who we are there, and how its
    signals become limits on one node of the site's electrical tree (usually the supply)."""

    site = models.ForeignKey("stations.Site", on_delete=models.CASCADE, related_name="vens")
    node = models.ForeignKey(
        "power.PowerNode",
        on_delete=models.PROTECT,
        related_name="vens",
        help_text=_("The node whose limit demand-response events lower."),
    )
    name = models.CharField(_("name"), max_length=100)
    vtn_url = models.URLField(
        _("VTN URL"), max_length=300, help_text=_("e.g. https://vtn.example/OpenADR2/Simple/2.0b")
    )
    ven_name = models.CharField(_("VEN name"), max_length=100)
    ven_id = models.CharField(_("VEN ID"), max_length=100, blank=True)
    registration_id = models.CharField(max_length=100, blank=True, editable=False)
    # TLS client certificate (its key is a secret: never shown back by the API or the portal)
    # and the VTN's: its CA for the TLS connection, its certificate fingerprint for signatures.
    client_cert_pem = models.TextField(_("client certificate (PEM)"), blank=True)
    # The private key, encrypted (Fernet, keys derived from ENERGY_SECRET_KEYS: apps/energy/keys.py);
    # read and written in clear through ``client_key_pem`` only.
    client_key_encrypted = models.TextField(blank=True, editable=False)
    vtn_ca_pem = models.TextField(_("VTN CA certificate (PEM)"), blank=True)
    vtn_fingerprint = models.CharField(_("VTN certificate fingerprint"), max_length=64, blank=True)
    poll_seconds = models.PositiveIntegerField(
        _("poll every (s)"), default=10, validators=[MinValueValidator(5)]
    )
    default_opt = models.CharField(
        _("new events"), max_length=8, choices=Opt.choices, default=Opt.IN
    )
    opt_out_over_minutes = models.PositiveIntegerField(
        _("opt out of events longer than (minutes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Empty: any length. Open-ended events count as longer."),
    )
    opt_out_days = models.PositiveSmallIntegerField(
        _("opt out of events starting on"),
        default=0,
        validators=[MaxValueValidator(127)],
        help_text=_(
            "Days of the week (site time), bit mask: Monday = 1, Tuesday = 2 ... Sunday = 64."
        ),
    )
    level_1_percent = models.DecimalField(
        _("limit at level 1 (% of the node's limit)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("75"),
        validators=PERCENT,
    )
    level_2_percent = models.DecimalField(
        _("limit at level 2 (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("50"),
        validators=PERCENT,
    )
    level_3_percent = models.DecimalField(
        _("limit at level 3 (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("25"),
        validators=PERCENT,
    )
    randomize = models.BooleanField(_("honour the VTN's start randomisation"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    # The poll loop's state (written by the poll only).
    next_poll_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_poll_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_ok_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_outcome = models.CharField(
        max_length=12, choices=PollOutcome.choices, default=PollOutcome.NEVER, editable=False
    )
    last_error = models.CharField(max_length=255, blank=True, editable=False)
    registered_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Telemetry (the node's load in 15-minute intervals), once the VTN asked for it.
    reports_offered_at = models.DateTimeField(null=True, blank=True, editable=False)
    report_request_id = models.CharField(max_length=200, blank=True, editable=False)
    reported_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()
    scope_site_path = "site"

    class Meta:
        ordering = ["name"]
        verbose_name = _("OpenADR VEN")
        constraints = [
            models.UniqueConstraint(fields=["vtn_url", "ven_name"], name="energy_ven_unique_name")
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.node_id and self.site_id and self.node.site_id != self.site_id:
            raise ValidationError({"node": _("The node must belong to the VEN's site.")})
        if bool(self.client_cert_pem) != self.has_client_key:
            raise ValidationError(
                _("A client certificate and its private key go together: give both or neither.")
            )
        if self.client_cert_pem and not self.vtn_ca_pem:
            raise ValidationError(
                {"vtn_ca_pem": _("With a client certificate, give the VTN's CA certificate.")}
            )
        if self.client_cert_pem or self.vtn_ca_pem or self.has_client_key:
            try:
                key_pem = self.client_key_pem
            except keys.KeyUnavailable as error:
                raise ValidationError({"client_key_pem": str(error)}) from error
            pem.check(cert_pem=self.client_cert_pem, key_pem=key_pem, ca_pem=self.vtn_ca_pem)
        if not (self.level_1_percent >= self.level_2_percent >= self.level_3_percent):
            raise ValidationError(_("Higher signal levels must not allow more power."))

    @property
    def client_key_pem(self) -> str:
        """The private key in clear (decrypted on each read; raises ``keys.KeyUnavailable``)."""
        return keys.decrypt(self.client_key_encrypted)

    @client_key_pem.setter
    def client_key_pem(self, value: str) -> None:
        self.client_key_encrypted = keys.encrypt(value or "")

    @property
    def has_client_key(self) -> bool:
        return bool(self.client_key_encrypted)

    @property
    def uses_tls(self) -> bool:
        return bool(self.client_cert_pem)

    @property
    def report_specifier_id(self) -> str:
        return f"chargegrid-ven-{self.pk}-load"


class DemandResponseEvent(models.Model):
    """One OpenADR event as the VTN last described it, what we answered (opt in/out), and
    the limit it puts on the VEN's node while it runs."""

    ven = models.ForeignKey(Ven, on_delete=models.CASCADE, related_name="events")
    event_id = models.CharField(max_length=200)
    modification_number = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=EventStatus.choices)
    priority = models.PositiveIntegerField(default=0)
    signal_name = models.CharField(max_length=40)
    signal_type = models.CharField(max_length=40)
    signal_kind = models.CharField(max_length=10, choices=SignalKind.choices)
    level = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    target_kw = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    starts_at = models.DateTimeField(help_text=_("dtstart as the VTN sent it"))
    ends_at = models.DateTimeField(
        null=True, blank=True, help_text=_("dtstart + duration; empty for an open-ended event")
    )
    intervals = models.JSONField(
        default=list,
        blank=True,
        help_text=_(
            "The signal's intervals: start (seconds after dtstart), duration (s, 0: open) and "
            "payload, each followed for its own period."
        ),
    )
    ramp_up_seconds = models.PositiveIntegerField(default=0)
    recovery_seconds = models.PositiveIntegerField(default=0)
    start_after_seconds = models.PositiveIntegerField(default=0)
    offset_seconds = models.PositiveIntegerField(
        default=0, help_text=_("The random delay this VEN drew within start_after.")
    )
    response_required = models.BooleanField(default=True)
    opt = models.CharField(max_length=8, choices=Opt.choices)
    opt_source = models.CharField(max_length=12, choices=OptSource.choices)
    opt_changed_at = models.DateTimeField(null=True, blank=True)
    reported_opt = models.CharField(max_length=8, choices=Opt.choices, blank=True)
    reported_modification = models.IntegerField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    # The limits of the event's node: before (what applied without it) and during.
    limit_before_a = models.DecimalField(max_digits=8, decimal_places=1, null=True, blank=True)
    limit_before_kw = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    limit_a = models.DecimalField(max_digits=8, decimal_places=1, null=True, blank=True)
    limit_kw = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    received_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedManager()
    scope_site_path = "ven__site"

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["ven", "event_id"], name="energy_event_unique_id")
        ]

    def __str__(self) -> str:
        return f"{self.ven} {self.event_id}"

    @property
    def reference(self) -> str:
        """How this event's limit overrides are found in power."""
        return f"openadr-event:{self.pk}"

    @property
    def needs_report(self) -> bool:
        return self.response_required and (
            self.reported_opt != self.opt or self.reported_modification != self.modification_number
        )


class VenMember(models.Model):
    """A further node (usually another site's supply) a VEN's events apply to: one registration
    at the VTN for a group of sites. The VEN's own ``node`` is always the first member."""

    ven = models.ForeignKey(Ven, on_delete=models.CASCADE, related_name="members")
    node = models.ForeignKey("power.PowerNode", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()
    scope_site_path = "ven__site"

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["ven", "node"], name="energy_ven_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.ven}: {self.node}"


class EventNodeLimit(models.Model):
    """What one event does to one node of its VEN (a group VEN has several): the node's limits
    before, its share of a kW target, and the most demanding limit it gets during the event."""

    event = models.ForeignKey(
        DemandResponseEvent, on_delete=models.CASCADE, related_name="node_limits"
    )
    node = models.ForeignKey("power.PowerNode", on_delete=models.CASCADE, related_name="+")
    share = models.DecimalField(
        max_digits=7,
        decimal_places=6,
        default=Decimal("1"),
        help_text=_("This node's part of a kW target (by capacity before the event)."),
    )
    limit_before_a = models.DecimalField(max_digits=8, decimal_places=1, null=True, blank=True)
    limit_before_kw = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    limit_a = models.DecimalField(max_digits=8, decimal_places=1, null=True, blank=True)
    limit_kw = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)

    objects = RestrictedManager()
    scope_site_path = "event__ven__site"

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "node"], name="energy_event_node_unique")
        ]

    def __str__(self) -> str:
        return f"{self.event} on {self.node}"
