from django.contrib import admin

from .models import Campaign, CampaignTarget, FirmwareImage


@admin.register(FirmwareImage)
class FirmwareImageAdmin(admin.ModelAdmin):
    list_display = ["vendor", "model", "version", "size", "sha256", "uploaded_at"]
    search_fields = ["vendor", "model", "version"]
    readonly_fields = ["size", "sha256", "signature", "signing_certificate", "file"]

    def has_add_permission(self, request):
        return False  # uploads go through the service (size, checksum, signature checked)


class CampaignTargetInline(admin.TabularInline):
    model = CampaignTarget
    extra = 0
    fields = ["station", "wave", "status", "progress", "attempts", "reason"]
    readonly_fields = fields
    can_delete = False


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "image", "status", "created_at", "finished_at"]
    list_filter = ["status"]
    readonly_fields = ["status", "pause_reason", "started_at", "finished_at"]
    inlines = [CampaignTargetInline]
