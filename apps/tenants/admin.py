from django.contrib import admin
from django_tenants.admin import TenantAdminMixin
from django_tenants.utils import get_public_schema_name

from .models import Domain, Tenant


class PublicOnlyAdmin(admin.ModelAdmin):
    """Tenant tables are the platform operator's: reachable from the public schema's admin only."""

    @staticmethod
    def _in_public(request) -> bool:
        return request.tenant.schema_name == get_public_schema_name()

    def has_module_permission(self, request):
        return self._in_public(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._in_public(request) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._in_public(request) and super().has_change_permission(request, obj)

    def has_add_permission(self, request):
        return self._in_public(request) and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self._in_public(request) and super().has_delete_permission(request, obj)


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Tenant)
class TenantAdmin(TenantAdminMixin, PublicOnlyAdmin):
    list_display = ["name", "slug", "schema_name", "currency", "timezone", "language", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [DomainInline]


@admin.register(Domain)
class DomainAdmin(PublicOnlyAdmin):
    list_display = ["domain", "tenant", "is_primary"]
