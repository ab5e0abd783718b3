from django.contrib import admin

from .models import AccessGroup, AccessRule, Holiday, RuleWindow


@admin.register(AccessGroup)
class AccessGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name"]
    raw_id_fields = ["tokens"]


class RuleWindowInline(admin.TabularInline):
    model = RuleWindow
    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AccessRule)
class AccessRuleAdmin(admin.ModelAdmin):
    """Read-only: rules are written through ``services.rule_create`` (it sets the rule's site)."""

    list_display = ["name", "kind", "scope_site", "site", "station", "evse", "date_from", "date_to"]
    list_filter = ["kind", "holidays"]
    inlines = [RuleWindowInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name", "site"]
