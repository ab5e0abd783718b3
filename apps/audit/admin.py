from django.contrib import admin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "actor_label", "action", "object_repr", "source", "succeeded"]
    list_filter = ["source", "actor_kind", "succeeded"]
    search_fields = ["actor_label", "action", "object_repr"]
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
