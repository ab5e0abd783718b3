from django.contrib import admin

from .models import DemandResponseEvent, Ven


@admin.register(Ven)
class VenAdmin(admin.ModelAdmin):
    list_display = ("name", "site", "ven_name", "vtn_url", "last_outcome", "last_poll_at")
    exclude = ("client_key_encrypted",)  # never shown, even encrypted


@admin.register(DemandResponseEvent)
class DemandResponseEventAdmin(admin.ModelAdmin):
    list_display = ("event_id", "ven", "status", "opt", "starts_at", "ends_at")
    list_filter = ("status", "opt")
