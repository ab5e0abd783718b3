"""The platform operator's view across tenants (public schema admin only)."""

from django import forms
from django.contrib import admin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from apps.tenants.admin import PublicOnlyAdmin

from . import services
from .models import PlanOrder, PlanReminder, PortActivation
from .ordercodes import OrderCodeError, parse_order_code


class PlanOrderForm(forms.ModelForm):
    code = forms.CharField(
        label=_("Order code"),
        help_text=_(
            "CPCLD-COMMERCIAL-n, CPCLD-COMMERCIAL-DC-n, CPCLD-COMMERCIAL-EXPP-n (n = 1 to 5 "
            "years); the obsolete CTSW-SAS-COMM-n and CTSW-SAS-COMM-DC-n are mapped."
        ),
    )

    class Meta:
        model = PlanOrder
        fields = ["tenant", "code", "quantity", "starts_on", "reference"]

    def clean_code(self):
        try:
            return parse_order_code(self.cleaned_data["code"]).written
        except OrderCodeError as error:
            raise forms.ValidationError(str(error)) from error


@admin.register(PlanOrder)
class PlanOrderAdmin(PublicOnlyAdmin):
    form = PlanOrderForm
    list_display = [
        "tenant",
        "order_code",
        "ordered_code",
        "quantity",
        "seats_used",
        "starts_on",
        "expires_on",
        "reference",
    ]
    list_filter = ["tier", "years", "tenant"]
    search_fields = ["tenant__name", "order_code", "ordered_code", "reference"]
    date_hierarchy = "expires_on"

    def get_queryset(self, request):
        return PlanOrder.every_tenant.select_related("tenant").annotate(
            used=Count("activations", filter=Q(activations__released_at__isnull=True))
        )

    @admin.display(description=_("seats used"), ordering="used")
    def seats_used(self, obj):
        return obj.used

    def has_change_permission(self, request, obj=None):
        return False  # an order is a fact; record a renewal or a new order instead

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = services.plan_order_create(
            tenant=data["tenant"],
            code=data["code"],
            quantity=data["quantity"],
            starts_on=data["starts_on"],
            reference=data.get("reference", ""),
            recorded_by=request.user.email,
        )
        obj.pk = saved.pk


@admin.register(PortActivation)
class PortActivationAdmin(PublicOnlyAdmin):
    list_display = [
        "tenant",
        "station_identity",
        "evse_id",
        "order",
        "activated_at",
        "released_at",
    ]
    list_filter = ["tenant"]
    search_fields = ["station_identity", "tenant__name"]

    def get_queryset(self, request):
        return PortActivation.every_tenant.select_related("tenant", "order")

    def has_add_permission(self, request):
        return False  # the tenant activates its ports

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PlanReminder)
class PlanReminderAdmin(PublicOnlyAdmin):
    list_display = ["order", "days_before", "sent_at", "recipients"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
