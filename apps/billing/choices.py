from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountKind(models.TextChoices):
    """Ledger account kinds.  Entries are signed: debit positive, credit negative."""

    ASSET = "asset", _("Asset")
    LIABILITY = "liability", _("Liability")
    INCOME = "income", _("Income")
    EXPENSE = "expense", _("Expense")


class TransactionKind(models.TextChoices):
    SESSION_CHARGE = "session_charge", _("Charging session")
    REFUND = "refund", _("Refund")
    CORRECTION = "correction", _("Correction")
    TOP_UP = "top_up", _("Prepaid top-up")
    PAYMENT = "payment", _("Payment received")
    PAYMENT_REFUND = "payment_refund", _("Money returned to a driver")
    PAYOUT = "payout", _("Payout to the owner")
    PAYOUT_SETTLED = "payout_settled", _("Payout confirmed by the bank")
    PAYOUT_RETURNED = "payout_returned", _("Payout returned by the bank")


class DriverAccountKind(models.TextChoices):
    PREPAID = "prepaid", _("Prepaid balance")
    INVOICE = "invoice", _("Monthly invoice")
    CARD = "card", _("Card on file")


class Provider(models.TextChoices):
    INTERNAL = "internal", _("Internal (prepaid balance, invoice, bank transfer)")
    STRIPE = "stripe", _("Stripe")


class PaymentKind(models.TextChoices):
    CHARGE = "charge", _("Session charge")
    TOP_UP = "top_up", _("Top-up")
    INVOICE_SETTLEMENT = "invoice_settlement", _("Invoice payment")
    REFUND = "refund", _("Refund to the driver")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    REQUIRES_ACTION = "requires_action", _("Needs the driver")


class InvoiceStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    PAID = "paid", _("Paid")


class PayoutStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be built")
    BUILDING = "building", _("Being built")
    READY = "ready", _("Ready: bank file available")
    NOTHING_TO_PAY = "nothing_to_pay", _("Nothing to pay this period")
    NEEDS_BANK_DETAILS = "needs_bank_details", _("Waiting for bank details")
    SENT = "sent", _("Sent to the bank")
    PAID = "paid", _("Paid")
    RETURNED = "returned", _("Returned by the bank")


class PayoutLineKind(models.TextChoices):
    CARRIED_OVER = "carried_over", _("Carried over from earlier periods")
    SESSIONS = "sessions", _("Charging sessions, net of platform fees")
    TAXES = "taxes", _("Taxes collected")
    REFUNDS = "refunds", _("Refunds")
    CORRECTIONS = "corrections", _("Corrections")
    RETURNED = "returned", _("Payouts returned by the bank")


class BankFileFormat(models.TextChoices):
    PAIN_001_001_09 = "pain.001.001.09", _("ISO 20022 pain.001.001.09")
    PAIN_001_001_03 = "pain.001.001.03", _("ISO 20022 pain.001.001.03")
    CPA_005 = "cpa005", _("CPA Standard 005 (Canada, 1464-byte records)")


class Sector(models.TextChoices):
    WORKPLACE = "workplace", _("Workplace")
    RETAIL = "retail", _("Retail / shopping")
    HOSPITALITY = "hospitality", _("Hotel / hospitality")
    MULTIFAMILY = "multifamily", _("Multi-unit residential")
    MUNICIPAL = "municipal", _("Municipal / public parking")
    FLEET_DEPOT = "fleet_depot", _("Fleet depot")
    HIGHWAY = "highway", _("Highway fast charging")


class PricingGoal(models.TextChoices):
    RECOVER_COST = "recover_cost", _("Recover the energy cost")
    TURNOVER = "turnover", _("Free up spaces (turnover)")
    MARGIN = "margin", _("Earn a margin")
