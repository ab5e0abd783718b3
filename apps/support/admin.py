from django.contrib import admin

from .models import CannedAnswer, Case, CaseMessage, SupportSettings


class CaseMessageInline(admin.TabularInline):
    model = CaseMessage
    extra = 0
    fields = ("author_kind", "author_label", "internal", "source", "body", "created_at")
    readonly_fields = ("created_at",)


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("id", "subject", "requester_kind", "status", "priority", "queue", "created_at")
    list_filter = ("status", "priority", "queue", "requester_kind", "category")
    search_fields = ("subject", "requester_email", "receipt_number")
    inlines = [CaseMessageInline]


admin.site.register(CannedAnswer)
admin.site.register(SupportSettings)
