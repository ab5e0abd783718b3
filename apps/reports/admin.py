from django.contrib import admin

from .models import (
    ExportJob,
    GhgSettings,
    ReportDelivery,
    ReportSettings,
    ReportSubscription,
    SiteEmissionFactor,
)


@admin.register(GhgSettings)
class GhgSettingsAdmin(admin.ModelAdmin):
    list_display = ("baseline_g_per_km", "ev_kwh_per_km", "grid_g_per_kwh")


@admin.register(SiteEmissionFactor)
class SiteEmissionFactorAdmin(admin.ModelAdmin):
    list_display = ("site", "grid_g_per_kwh", "source")


@admin.register(ReportSubscription)
class ReportSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("user", "frequency", "is_active", "last_period_end")
    exclude = ("unsubscribe_token",)


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(admin.ModelAdmin):
    list_display = ("recipient", "period_start", "period_end", "sites", "sent_at")


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = ("requested_by", "file_format", "start", "end", "status", "created_at")


@admin.register(ReportSettings)
class ReportSettingsAdmin(admin.ModelAdmin):
    list_display = ("uptime_unavailable", "uptime_offline", "raw_retention_days")
