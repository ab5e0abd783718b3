"""The tenant's cloud plan page: orders with seats and expiries, every port's plan status (and
why a port refuses sessions), activating and releasing seats."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView, View

from apps.core.views import PermissionRequiredMixin
from apps.stations.models import Evse, Station

from . import conf, selectors, services
from .models import PlanOrder, PortActivation


class TenantWideMixin(PermissionRequiredMixin):
    """Plans are the whole tenant's contract: only people holding the permission on every site."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.actor.scope_for(self.permission).all_sites:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class PlanOverviewView(TenantWideMixin, TemplateView):
    permission = "plans.view"
    template_name = "plans/overview.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = connection.tenant
        actor = self.request.actor
        today = selectors.tenant_today(tenant)
        orders = list(
            selectors.plan_orders_with_seats(PlanOrder.objects.restrict(actor, self.permission))
        )
        evses = list(
            Evse.objects.restrict(actor, "stations.view")
            .select_related("station", "station__site")
            .order_by("station__identity", "evse_id")
        )
        plans = selectors.port_plans(
            tenant=tenant, ports=[(e.station_id, e.evse_id) for e in evses], day=today
        )
        context.update(
            today=today,
            grace_days=conf.grace_days(),
            orders=orders,
            ports=[(evse, plans[(evse.station_id, evse.evse_id)]) for evse in evses],
            seats_total=sum(o.quantity for o in orders if o.expires_on > today),
            seats_used=sum(o.seats_used for o in orders if o.expires_on > today),
            may_manage=actor.scope_for("plans.manage").all_sites,
            current_orders=[o for o in orders if o.expires_on > today],
        )
        return context


class PortActivateView(TenantWideMixin, View):
    permission = "plans.manage"

    def post(self, request, pk: int):
        evse = get_object_or_404(
            Evse.objects.restrict(request.actor, "stations.view").select_related("station"), pk=pk
        )
        order = None
        if request.POST.get("order"):
            order = get_object_or_404(PlanOrder.objects.all(), pk=request.POST["order"])
        try:
            services.port_activate(
                tenant=connection.tenant,
                station=Station.objects.get(pk=evse.station_id),
                evse_id=evse.evse_id,
                order=order,
            )
        except ValidationError as error:
            messages.error(request, "; ".join(error.messages))
        else:
            messages.success(request, _("The port holds a plan seat."))
        return HttpResponseRedirect(reverse("plans:overview"))


class PortReleaseView(TenantWideMixin, View):
    permission = "plans.manage"

    def post(self, request, pk: int):
        activation = get_object_or_404(
            PortActivation.objects.restrict(request.actor, self.permission), pk=pk
        )
        services.port_release(activation=activation)
        messages.success(request, _("The seat is free; the port refuses new sessions."))
        return HttpResponseRedirect(reverse("plans:overview"))
