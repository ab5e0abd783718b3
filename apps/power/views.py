"""Portal pages: a site's electrical tree with its live load and allocation, a node's page
with its limits and the capacity planner, and setting a temporary limit."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import View

from apps.core.views import PermissionRequiredMixin, ScopedDetailView
from apps.stations.models import Site

from . import selectors, services
from .choices import LimitSource
from .forms import LimitForm, PlannerForm
from .models import PowerNode


class SitePowerView(ScopedDetailView):
    """The tree: per node its limit, building load, what is allocated and drawn per line; per
    EVSE its limit and why."""

    model = Site
    permission = "power.view"
    template_name = "power/site_power.html"
    context_object_name = "site"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tree"] = selectors.site_power_tree(site=self.object)
        context["alerts"] = selectors.open_power_alerts(actor=self.request.actor, site=self.object)
        context["may_manage"] = self.may("power.manage", self.object.pk)
        return context


class NodeDetailView(ScopedDetailView):
    model = PowerNode
    permission = "power.view"
    template_name = "power/node_detail.html"
    context_object_name = "node"

    def get_queryset(self):
        return super().get_queryset().select_related("site", "parent")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        node = self.object
        context["load"] = selectors.node_load(node=node)
        now = timezone.now()
        context["overrides"] = node.overrides.filter(ends_at__gt=now) | node.overrides.filter(
            ends_at__isnull=True
        )
        context["windows"] = node.limit_windows.all()
        planner = PlannerForm(self.request.GET or None)
        context["planner_form"] = planner
        if planner.is_valid():
            context["plan"] = selectors.node_capacity_plan(
                node=node,
                port_kw=planner.cleaned_data["port_kw"],
                port_phases=planner.cleaned_data["phases"],
            )
        context["limit_form"] = LimitForm()
        context["may_manage"] = self.may("power.manage", node.site_id)
        return context


class NodeLimitView(PermissionRequiredMixin, View):
    """POST: a temporary limit on a node (then back to its page)."""

    permission = "power.manage"

    def post(self, request, pk: int):
        node = get_object_or_404(PowerNode.objects.restrict(request.actor, self.permission), pk=pk)
        if not self.may(self.permission, node.site_id):
            raise PermissionDenied
        form = LimitForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            now = timezone.now()
            try:
                services.limit_override_create(
                    node=node,
                    source=LimitSource.MANUAL,
                    limit_a=data["limit_a"],
                    limit_kw=data["limit_kw"],
                    starts_at=now,
                    ends_at=now + timedelta(hours=float(data["hours"])),
                    note=data["note"],
                )
            except ValidationError as error:
                messages.error(request, "; ".join(error.messages))
            else:
                messages.success(request, _("The limit applies now."))
        else:
            messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
        return HttpResponseRedirect(node_url(node))


def node_url(node: PowerNode) -> str:
    from django.urls import reverse

    return reverse("power:node_detail", args=[node.pk])
