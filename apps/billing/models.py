"""Billing (tenant schema): tariffs and who they apply to, taxes, driver accounts, priced
sessions with their receipts, the double-entry ledger, payments and monthly payouts.

Money rows that record what happened (ledger transactions and entries, session costs, receipt
lines, payout statement lines) are immutable: the model refuses updates and deletes, and
PostgreSQL triggers (migration 0002) refuse them from any other path too.  A mistake is
corrected by a new, reversing entry.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.scoping import RestrictedManager

from .choices import (
    AccountKind,
    BankFileFormat,
    DriverAccountKind,
    InvoiceStatus,
    PaymentKind,
    PaymentStatus,
    PayoutLineKind,
    PayoutStatus,
    Provider,
    TransactionKind,
)
from .engine import Tariff as TariffDefinition
from .engine import TariffError

MONEY = {"max_digits": 18, "decimal_places": 4}  # amounts are whole minor units; 4 fits any


class ImmutableRecord(models.Model):
    """A row written once.  Updates and deletes are refused here and by the database."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(
                _("%(model)s rows cannot be changed.") % {"model": self._meta.verbose_name}
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(
            _("%(model)s rows cannot be deleted.") % {"model": self._meta.verbose_name}
        )


# --- Who pays what: driver groups, tariffs, assignments, taxes -------------------------------


class DriverGroup(models.Model):
    """Drivers (tokens) with their own tariff: employees, residents, a partner fleet."""

    name = models.CharField(max_length=120, unique=True)
    description = models.CharField(max_length=300, blank=True)
    priority = models.PositiveSmallIntegerField(
        default=100,
        help_text=_("When a driver is in several groups with tariffs, the lowest number wins."),
    )
    tokens = models.ManyToManyField("charging.IdToken", blank=True, related_name="billing_groups")
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["priority", "name"]

    def __str__(self) -> str:
        return self.name


class Tariff(models.Model):
    """A named price list; what it charges lives in its versions."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TariffVersion(models.Model):
    """One version of a tariff's prices, in force from ``effective_from`` until the next
    version.  Versions are never edited once created: a price change is a new version, so a
    session is always priced by the version in force when it started."""

    tariff = models.ForeignKey(Tariff, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField(help_text=_("The prices, in the engine's JSON form."))
    effective_from = models.DateTimeField()
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["tariff", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["tariff", "number"], name="tariff_version_number_once"),
            models.UniqueConstraint(
                fields=["tariff", "effective_from"], name="tariff_version_start_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tariff} v{self.number}"

    def clean(self) -> None:
        try:
            parsed = TariffDefinition.from_dict(self.definition)
        except TariffError as error:
            raise ValidationError({"definition": error.problems}) from error
        tenant = getattr(connection, "tenant", None)
        currency = getattr(tenant, "currency", None)
        if currency and parsed.currency != currency:
            raise ValidationError(
                {"definition": _("Prices must be in %(currency)s.") % {"currency": currency}}
            )

    @property
    def parsed(self) -> TariffDefinition:
        return TariffDefinition.from_dict(self.definition)


class TariffAssignment(models.Model):
    """Where (tenant-wide, a site or a station) and for whom (everyone or a driver group) a
    tariff applies.  See ``engine.select_assignment`` for which assignment wins."""

    tariff = models.ForeignKey(Tariff, on_delete=models.PROTECT, related_name="assignments")
    site = models.ForeignKey(
        "stations.Site", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    station = models.ForeignKey(
        "stations.Station", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    driver_group = models.ForeignKey(
        DriverGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="assignments"
    )
    priority = models.PositiveSmallIntegerField(default=100)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()
    scope_site_path = "site"

    class Meta:
        ordering = ["priority", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(station__isnull=True) | Q(site__isnull=False),
                name="assignment_station_has_site",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gt=models.F("valid_from")),
                name="assignment_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        where = self.station or self.site or _("all sites")
        who = self.driver_group or _("everyone")
        return f"{self.tariff} @ {where} for {who}"

    def clean(self) -> None:
        if self.station_id and self.station.site_id != self.site_id:
            raise ValidationError({"site": _("The site must be the station's site.")})


class TaxRate(models.Model):
    """A tax charged at a site (several may apply, e.g. federal and provincial)."""

    site = models.ForeignKey("stations.Site", on_delete=models.CASCADE, related_name="tax_rates")
    code = models.CharField(max_length=16)
    name = models.CharField(max_length=80)
    rate = models.DecimalField(
        max_digits=7,
        decimal_places=6,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal("0.999999"))],
        help_text=_("A fraction: 0.05 for 5 %."),
    )
    compound = models.BooleanField(
        default=False, help_text=_("Computed on the price plus the taxes listed before it.")
    )
    position = models.PositiveSmallIntegerField(default=0)
    registration_number = models.CharField(max_length=40, blank=True)

    objects = RestrictedManager()
    scope_site_path = "site"

    class Meta:
        ordering = ["site", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="tax_code_once_per_site"),
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lt=1), name="tax_rate_is_a_fraction"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.rate * 100:.3f} %"


class BillingProfile(models.Model):
    """The tenant's billing settings (one row): tax presentation, bank account for payouts,
    OCPI identity.  The platform fee is the platform's, in Django settings, not here."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    prices_include_tax = models.BooleanField(
        default=False, help_text=_("Prices are shown to drivers with taxes included (VAT style).")
    )
    legal_name = models.CharField(max_length=140, blank=True)
    payout_account_holder = models.CharField(max_length=70, blank=True)
    payout_iban = models.CharField(max_length=34, blank=True)
    payout_account_number = models.CharField(
        max_length=34, blank=True, help_text=_("Account number where IBAN is not used (Canada).")
    )
    payout_clearing_system = models.CharField(
        max_length=5, blank=True, help_text=_("ISO 20022 clearing system code, e.g. CACPA.")
    )
    payout_clearing_member_id = models.CharField(
        max_length=35,
        blank=True,
        help_text=_("Bank routing number, e.g. 0 + institution (3) + transit (5) in Canada."),
    )
    payout_bic = models.CharField(max_length=11, blank=True)
    payout_country = models.CharField(max_length=2, default="CA")
    payout_file_format = models.CharField(
        max_length=20, choices=BankFileFormat.choices, default=BankFileFormat.PAIN_001_001_09
    )
    ocpi_country_code = models.CharField(max_length=2, default="CA")
    ocpi_party_id = models.CharField(max_length=3, blank=True)
    cost_update_interval_seconds = models.PositiveIntegerField(
        default=300,
        help_text=_(
            "How often an OCPP 2.0.1 station is sent the running cost of a session "
            "(CostUpdated); 0: only on price-relevant events."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(singleton=True), name="one_billing_profile")
        ]

    def __str__(self) -> str:
        return str(_("Billing settings"))

    def clean(self) -> None:
        currency = getattr(getattr(connection, "tenant", None), "currency", None)
        if (
            self.payout_file_format == BankFileFormat.CPA_005
            and currency
            and currency not in ("CAD", "USD")
        ):
            raise ValidationError(
                {"payout_file_format": _("CPA Standard 005 files carry CAD or USD only.")}
            )


# --- Driver accounts ---------------------------------------------------------------------------


class DriverAccount(models.Model):
    """Who pays for a token's sessions, and how."""

    name = models.CharField(max_length=140)
    email = models.EmailField(blank=True)
    kind = models.CharField(
        max_length=10, choices=DriverAccountKind.choices, default=DriverAccountKind.PREPAID
    )
    provider = models.CharField(max_length=10, choices=Provider.choices, default=Provider.INTERNAL)
    credit_limit = models.DecimalField(
        **MONEY,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
        help_text=_(
            "Prepaid: how far below zero the balance may be and still start charging (0: "
            "funds needed). Invoice: the most it may owe before charging is refused (0: no "
            "limit)."
        ),
    )
    stripe_customer_id = models.CharField(max_length=64, blank=True)
    stripe_payment_method_id = models.CharField(max_length=64, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=DriverAccountKind.CARD) | Q(provider=Provider.STRIPE),
                name="card_accounts_use_stripe",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def ledger_code(self) -> str:
        return f"driver:{self.pk}"


class DriverAccountToken(models.Model):
    """A token charges to exactly one account."""

    account = models.ForeignKey(DriverAccount, on_delete=models.CASCADE, related_name="token_links")
    token = models.OneToOneField(
        "charging.IdToken", on_delete=models.CASCADE, related_name="billing_account_link"
    )

    objects = RestrictedManager()
    scope_site_path = None

    def __str__(self) -> str:
        return f"{self.token} → {self.account}"


# --- Document numbers --------------------------------------------------------------------------


class DocumentCounter(models.Model):
    """Gap-free numbering of receipts and invoices (a sequence would leave gaps on rollback)."""

    name = models.CharField(max_length=20)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "year"], name="one_counter_per_name_year")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.year}: {self.last}"


# --- Priced sessions ---------------------------------------------------------------------------


class SessionCost(ImmutableRecord):
    """The priced session: the receipt's header.  Written once, with its lines, in the same
    database transaction as the ledger posting."""

    session = models.OneToOneField(
        "charging.ChargingSession", on_delete=models.PROTECT, related_name="billing_cost"
    )
    receipt_number = models.CharField(max_length=20, unique=True)
    tariff_version = models.ForeignKey(
        TariffVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="costs"
    )
    tariff_name = models.CharField(max_length=120, blank=True)
    driver_group_name = models.CharField(max_length=120, blank=True)
    driver_account = models.ForeignKey(
        DriverAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="costs"
    )
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(**MONEY)
    tax_total = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)
    total_excl_tax = models.DecimalField(**MONEY)
    prices_include_tax = models.BooleanField(default=False)
    platform_fee = models.DecimalField(**MONEY)
    energy_wh = models.BigIntegerField()
    connected_seconds = models.BigIntegerField()
    charging_seconds = models.BigIntegerField()
    idle_seconds = models.BigIntegerField()
    site_timezone = models.CharField(max_length=64)
    inputs_digest = models.CharField(max_length=64)
    engine_version = models.CharField(max_length=8)
    computed_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()
    scope_site_path = "session__station__site"

    class Meta:
        ordering = ["-computed_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="cost_total_not_negative"),
            models.CheckConstraint(
                condition=Q(platform_fee__gte=0) & Q(platform_fee__lte=models.F("total_excl_tax")),
                name="platform_fee_within_revenue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.receipt_number} {self.total} {self.currency}"


class ReceiptLine(ImmutableRecord):
    cost = models.ForeignKey(SessionCost, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16)
    label = models.CharField(max_length=200)
    quantity = models.BigIntegerField(help_text=_("Wh, seconds or sessions"))
    unit = models.CharField(max_length=8)
    unit_price = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    amount = models.DecimalField(**MONEY)
    tax_code = models.CharField(max_length=16, blank=True)
    tax_rate = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)

    objects = RestrictedManager()
    scope_site_path = "cost__session__station__site"

    class Meta:
        ordering = ["cost", "position"]
        constraints = [
            models.UniqueConstraint(fields=["cost", "position"], name="receipt_line_position_once")
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.amount}"

    @property
    def is_tax(self) -> bool:
        return self.kind == "tax"

    @property
    def display_quantity(self) -> Decimal:
        if self.unit == "Wh":
            return Decimal(self.quantity).scaleb(-3)
        if self.unit == "s":
            return (Decimal(self.quantity) / 3600).quantize(Decimal("0.0001"))
        return Decimal(self.quantity)

    @property
    def display_unit(self) -> str:
        return {"Wh": "kWh", "s": "h"}.get(self.unit, self.unit)


class ReceiptEmail(models.Model):
    """The receipt e-mailed to the driver account of a priced session: one per session cost,
    sent once (the row is the claim; ``sent_at`` says it went out)."""

    cost = models.OneToOneField(SessionCost, on_delete=models.PROTECT, related_name="email")
    recipient = models.EmailField()
    language = models.CharField(max_length=8)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()
    scope_site_path = "cost__session__station__site"

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.cost.receipt_number} → {self.recipient}"


class NoShowFee(models.Model):
    """A no-show's fee (a port held for a driver who never came: the tariff's
    ``reservation.no_show_fee``), owed by the card and charged on its next receipt (``cost``).
    One per no-show (``key``, given by whoever held the port)."""

    key = models.CharField(max_length=80, unique=True)
    token_uid = models.CharField(max_length=64, db_index=True)
    station = models.ForeignKey("stations.Station", on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField()
    tariff_version = models.ForeignKey(
        TariffVersion, on_delete=models.PROTECT, related_name="no_show_fees"
    )
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**MONEY)
    cost = models.ForeignKey(
        SessionCost, null=True, blank=True, on_delete=models.PROTECT, related_name="no_show_fees"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()
    scope_site_path = "station__site"

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="no_show_fee_positive")
        ]

    def __str__(self) -> str:
        return f"{self.token_uid} {self.amount} {self.currency}"


# --- Ledger ------------------------------------------------------------------------------------


class LedgerAccount(models.Model):
    """An account of the tenant's ledger.  Its balance is always the sum of its entries."""

    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=140)
    kind = models.CharField(max_length=10, choices=AccountKind.choices)
    driver_account = models.OneToOneField(
        DriverAccount,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_account",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"

    @property
    def credit_normal(self) -> bool:
        return self.kind in (AccountKind.LIABILITY, AccountKind.INCOME)


class LedgerTransaction(ImmutableRecord):
    """One balanced posting.  ``idempotency_key`` makes each business event post once."""

    kind = models.CharField(max_length=20, choices=TransactionKind.choices)
    idempotency_key = models.CharField(max_length=120, unique=True)
    currency = models.CharField(max_length=3)
    effective_at = models.DateTimeField(
        help_text=_("When the event happened (what period it belongs to).")
    )
    posted_at = models.DateTimeField(default=timezone.now)
    memo = models.CharField(max_length=300, blank=True)
    actor = models.CharField(max_length=200, blank=True)
    session = models.ForeignKey(
        "charging.ChargingSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_transactions",
    )
    session_cost = models.ForeignKey(
        SessionCost, null=True, blank=True, on_delete=models.PROTECT, related_name="transactions"
    )
    payment = models.ForeignKey(
        "billing.Payment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transactions",
    )
    payout = models.ForeignKey(
        "billing.Payout",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transactions",
    )
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["-posted_at", "-id"]
        indexes = [models.Index(fields=["kind", "effective_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.idempotency_key}"


class LedgerEntry(ImmutableRecord):
    """A debit (positive) or credit (negative) of one account in one transaction."""

    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries")
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["transaction", "id"]
        verbose_name_plural = "ledger entries"
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_not_zero")]
        indexes = [models.Index(fields=["account", "transaction"])]

    def __str__(self) -> str:
        side = "Dr" if self.amount > 0 else "Cr"
        return f"{side} {self.account.code} {abs(self.amount)} {self.currency}"


# --- Payments ----------------------------------------------------------------------------------


class Payment(models.Model):
    """Money moving through a provider (a card charge, a top-up, a refund to a driver).

    Its status changes as the provider answers; the ledger is posted once, when it succeeds.
    """

    driver_account = models.ForeignKey(
        DriverAccount, on_delete=models.PROTECT, related_name="payments"
    )
    kind = models.CharField(max_length=20, choices=PaymentKind.choices)
    provider = models.CharField(max_length=10, choices=Provider.choices)
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0.0001"))])
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    idempotency_key = models.CharField(max_length=120, unique=True)
    provider_reference = models.CharField(max_length=120, blank=True)
    session_cost = models.ForeignKey(
        SessionCost, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    refund_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    failure_code = models.CharField(max_length=60, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="provider_reference_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.currency} ({self.status})"


class DriverInvoice(models.Model):
    """A monthly invoice for a driver account billed by invoice."""

    driver_account = models.ForeignKey(
        DriverAccount, on_delete=models.PROTECT, related_name="invoices"
    )
    number = models.CharField(max_length=20, unique=True)
    period_start = models.DateField()
    period_end = models.DateField(help_text=_("First day after the period."))
    session_count = models.PositiveIntegerField(default=0)
    sessions_total = models.DecimalField(**MONEY)
    amount_due = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.ISSUED
    )
    issued_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    payment = models.OneToOneField(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="invoice"
    )

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["-period_start", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["driver_account", "period_start"], name="one_invoice_per_account_period"
            )
        ]

    def __str__(self) -> str:
        return self.number


# --- Payouts -----------------------------------------------------------------------------------


class Payout(models.Model):
    """The tenant's money for one month, paid to its bank account.  One row per period,
    whatever happens: the unique period is the claim, the status update is the lock."""

    period_start = models.DateField(unique=True)
    period_end = models.DateField(help_text=_("First day after the period."))
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=20, choices=PayoutStatus.choices, default=PayoutStatus.PENDING
    )
    amount = models.DecimalField(**MONEY, default=Decimal(0))
    message_id = models.CharField(max_length=35, unique=True)
    bank_file = models.TextField(blank=True)
    bank_file_format = models.CharField(max_length=20, choices=BankFileFormat.choices, blank=True)
    creditor_name = models.CharField(max_length=70, blank=True)
    creditor_account = models.CharField(max_length=34, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    built_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["-period_start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gt=models.F("period_start")), name="payout_period_ordered"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="payout_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.period_start:%Y-%m} {self.amount} {self.currency} ({self.status})"

    @property
    def has_bank_file(self) -> bool:
        return bool(self.bank_file)

    @property
    def bank_file_media(self) -> tuple[str, str]:
        """(content type, file extension) of the bank file."""
        if self.bank_file_format == BankFileFormat.CPA_005:
            return "text/plain; charset=us-ascii", "txt"
        return "application/xml", "xml"


class PayoutLine(ImmutableRecord):
    """A line of the payout statement; the lines add up to the payout amount."""

    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20, choices=PayoutLineKind.choices)
    description = models.CharField(max_length=200)
    count = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(**MONEY)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["payout", "position"]
        constraints = [
            models.UniqueConstraint(fields=["payout", "position"], name="payout_line_position_once")
        ]

    def __str__(self) -> str:
        return f"{self.description}: {self.amount}"
