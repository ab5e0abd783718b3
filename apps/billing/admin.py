"""Django admin: configuration is editable; money records are read-only (they are immutable,
and corrections go through services that post reversing entries)."""

from django.contrib import admin

from .models import (
    BillingProfile,
    DriverAccount,
    DriverGroup,
    DriverInvoice,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Payment,
    Payout,
    PayoutLine,
    ReceiptLine,
    SessionCost,
    Tariff,
    TariffAssignment,
    TariffVersion,
    TaxRate,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TariffVersionInline(admin.TabularInline):
    model = TariffVersion
    extra = 0
    fields = ["number", "effective_from", "note", "definition"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "created_at"]
    search_fields = ["name"]
    inlines = [TariffVersionInline]


@admin.register(TariffAssignment)
class TariffAssignmentAdmin(admin.ModelAdmin):
    list_display = [
        "tariff",
        "site",
        "station",
        "driver_group",
        "priority",
        "valid_from",
        "valid_until",
    ]
    list_filter = ["site"]


@admin.register(DriverGroup)
class DriverGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "priority"]
    filter_horizontal = ["tokens"]


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):
    list_display = ["site", "code", "name", "rate", "compound", "position"]
    list_filter = ["site"]


@admin.register(BillingProfile)
class BillingProfileAdmin(admin.ModelAdmin):
    list_display = ["__str__", "prices_include_tax", "payout_account_holder", "updated_at"]


@admin.register(DriverAccount)
class DriverAccountAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "provider", "credit_limit", "is_active"]
    search_fields = ["name", "email"]


class ReceiptLineInline(admin.TabularInline):
    model = ReceiptLine
    extra = 0
    can_delete = False
    fields = ["position", "kind", "label", "quantity", "unit", "unit_price", "amount", "tax_code"]
    readonly_fields = fields


@admin.register(SessionCost)
class SessionCostAdmin(ReadOnlyAdmin):
    list_display = ["receipt_number", "session", "tariff_name", "total", "currency", "computed_at"]
    search_fields = ["receipt_number"]
    inlines = [ReceiptLineInline]


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "kind"]
    search_fields = ["code", "name"]


class LedgerEntryInline(admin.TabularInline):
    model = LedgerEntry
    extra = 0
    can_delete = False
    fields = ["account", "amount", "currency"]
    readonly_fields = fields


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ["idempotency_key", "kind", "effective_at", "posted_at", "actor"]
    list_filter = ["kind"]
    search_fields = ["idempotency_key", "memo"]
    inlines = [LedgerEntryInline]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["idempotency_key", "kind", "provider", "amount", "currency", "status"]
    list_filter = ["kind", "provider", "status"]


@admin.register(DriverInvoice)
class DriverInvoiceAdmin(ReadOnlyAdmin):
    list_display = ["number", "driver_account", "period_start", "amount_due", "status"]


class PayoutLineInline(admin.TabularInline):
    model = PayoutLine
    extra = 0
    can_delete = False
    fields = ["position", "kind", "description", "count", "amount"]
    readonly_fields = fields


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = ["period_start", "amount", "currency", "status", "built_at"]
    inlines = [PayoutLineInline]
