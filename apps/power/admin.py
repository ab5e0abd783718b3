from django.contrib import admin

from .models import (
    ChargingRule,
    EnergyRate,
    EvseAllocation,
    EvsePower,
    LimitOverride,
    LimitWindow,
    LoadWindow,
    PowerAlert,
    PowerNode,
    SessionPower,
    StationPower,
)


class LimitWindowInline(admin.TabularInline):
    model = LimitWindow
    extra = 0


class LoadWindowInline(admin.TabularInline):
    model = LoadWindow
    extra = 0


@admin.register(PowerNode)
class PowerNodeAdmin(admin.ModelAdmin):
    list_display = ["name", "site", "kind", "parent", "lines", "rating_a", "limit_kw"]
    list_filter = ["kind", "site"]
    search_fields = ["name", "site__name"]
    inlines = [LimitWindowInline, LoadWindowInline]


@admin.register(LimitOverride)
class LimitOverrideAdmin(admin.ModelAdmin):
    list_display = ["node", "limit_a", "limit_kw", "starts_at", "ends_at", "source"]
    list_filter = ["source"]


@admin.register(StationPower)
class StationPowerAdmin(admin.ModelAdmin):
    list_display = ["station", "node", "breaker_rating_a", "selected_max_a", "rate_unit"]
    readonly_fields = ["selected_max_a", "capabilities_at", "defaults_pushed_at"]


@admin.register(EvsePower)
class EvsePowerAdmin(admin.ModelAdmin):
    list_display = ["evse", "wiring", "rotation", "volts", "idle_current_a"]


@admin.register(ChargingRule)
class ChargingRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "site", "position", "token_group", "priority", "mode", "is_active"]
    list_filter = ["mode", "is_active"]


@admin.register(EnergyRate)
class EnergyRateAdmin(admin.ModelAdmin):
    list_display = ["site", "label", "weekdays", "start_time", "end_time", "price_per_kwh"]


@admin.register(SessionPower)
class SessionPowerAdmin(admin.ModelAdmin):
    list_display = ["session", "priority", "min_current_a", "starts_at", "draw_a"]


@admin.register(EvseAllocation)
class EvseAllocationAdmin(admin.ModelAdmin):
    list_display = ["evse", "limit_da", "reason", "push_state", "pushed_da", "updated_at"]
    list_filter = ["reason", "push_state"]


@admin.register(PowerAlert)
class PowerAlertAdmin(admin.ModelAdmin):
    list_display = ["station", "evse", "kind", "message", "created_at", "resolved_at"]
    list_filter = ["kind"]
