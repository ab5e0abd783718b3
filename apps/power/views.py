"""Portal pages: a site's electrical tree with its live load and allocation, a node's page
with its limits and the capacity planner, and setting a temporary limit."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import View

from apps.core.views import PermissionRequiredMixin, ScopedDetailView
from apps.stations.models import Evse, Site

from . import selectors, services
from .choices import AllocationReason, LimitSource, PhaseRotation, Wiring
from .forms import EvseWiringForm, LimitForm, NodeForm, PlannerForm, StationNodeForm
from .models import LimitOverride, PowerNode

HISTORY_DAYS = 2  # the node page's chart: drawn against the limit over the last two days


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
        context["reason_labels"] = {code: str(label) for code, label in AllocationReason.choices}
        if context["may_manage"]:
            context["wiring_choices"] = Wiring.choices
            context["rotation_choices"] = PhaseRotation.choices
            context["node_form"] = node_form(site=self.object)
            context["station_form"] = StationNodeForm(site=self.object)
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
        since = timezone.now() - timedelta(days=HISTORY_DAYS)
        context["history"] = [
            {
                "t": int(point.start.timestamp()),
                "drawn": float(point.drawn_kw),
                "peak": float(point.peak_kw),
                "allocated": float(point.allocated_kw),
                "limit": None if point.limit_kw is None else float(point.limit_kw),
            }
            for point in selectors.node_history(node=node, since=since)
        ]
        context["history_labels"] = {
            "drawn": _("Drawn, mean (kW)"),
            "peak": _("Drawn, peak (kW)"),
            "allocated": _("Allocated (kW)"),
            "limit": _("Limit (kW)"),
        }
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


class LimitEndView(PermissionRequiredMixin, View):
    """POST: end a temporary limit now (``services.limit_override_end``, as the API's
    ``/power-limits/<id>/end/``); the node returns to its own limit at the next rebalance."""

    permission = "power.manage"

    def post(self, request, pk: int):
        override = get_object_or_404(
            LimitOverride.objects.restrict(request.actor, self.permission).select_related("node"),
            pk=pk,
        )
        if override.ends_at is not None and override.ends_at <= timezone.now():
            messages.error(request, _("This limit has already ended."))
        else:
            services.limit_override_end(override=override)
            _audit(request, "power_limit.end", override)
            messages.success(request, _("The temporary limit has ended."))
        return HttpResponseRedirect(node_url(override.node))


def _audit(request, action: str, obj) -> None:
    from apps.audit.services import audit_record_for_request

    audit_record_for_request(request, action=action, obj=obj)


def node_url(node: PowerNode) -> str:
    return reverse("power:node_detail", args=[node.pk])


def site_url(site_id: int) -> str:
    return reverse("power:site_power", args=[site_id])


# --- The tree editor (power.manage on the site) ----------------------------------------------


class ManageMixin(PermissionRequiredMixin):
    """Editing a site's tree: ``power.manage`` on that site, else 404 (outside the actor's
    scope, exactly like what does not exist) or 403 (may see it, not change it)."""

    permission = "power.manage"

    def managed(self, model, pk: int, site_path: str = "site_id"):
        found = model.objects.restrict(self.request.actor, "power.manage").filter(pk=pk).first()
        if found is None:
            if model.objects.restrict(self.request.actor, "power.view").filter(pk=pk).exists():
                raise PermissionDenied
            raise Http404
        return found

    def form_errors(self, form) -> None:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(self.request, f"{label}: {error}" if label else error)


# The API's bounds (api.serializers.PowerNodeUpdateSerializer): the model leaves the amps and
# kW figures unbounded, so without these a negative breaker rating or power limit that the API
# refuses was saved from the portal.
NODE_BOUNDS = {
    "rating_a": [MinValueValidator(Decimal(0))],
    "limit_kw": [MinValueValidator(Decimal(0))],
    "demand_cap_kw": [MinValueValidator(Decimal(0))],
    "voltage_v": [MaxValueValidator(1000)],
}


def node_form(*args, **kwargs) -> NodeForm:
    """The node editor's form, refusing what the API refuses (an error next to the field)."""
    form = NodeForm(*args, **kwargs)
    for name, validators in NODE_BOUNDS.items():
        form.fields[name].validators.extend(validators)
    return form


def _node_fields(data: dict) -> dict:
    return {name: data[name] for name in NodeForm.Meta.fields if name in data}


class NodeCreateView(ManageMixin, View):
    """A new supply, panel, sub-panel or circuit under the site (or under a node)."""

    def get(self, request, pk: int):
        site = self.managed(Site, pk)
        form = node_form(site=site, initial={"parent": request.GET.get("parent")})
        return render(request, "power/node_form.html", {"site": site, "form": form})

    def post(self, request, pk: int):
        site = self.managed(Site, pk)
        form = node_form(request.POST, site=site)
        if form.is_valid():
            try:
                services.power_node_create(site=site, **_node_fields(form.cleaned_data))
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The node was added."))
                return HttpResponseRedirect(site_url(site.pk))
        return render(request, "power/node_form.html", {"site": site, "form": form}, status=400)


class NodeEditView(ManageMixin, View):
    """Change a node's limits, lines or voltage, or move it under another parent."""

    def get(self, request, pk: int):
        node = self.managed(PowerNode, pk)
        form = node_form(instance=node, site=node.site)
        return render(
            request, "power/node_form.html", {"site": node.site, "form": form, "node": node}
        )

    def post(self, request, pk: int):
        node = self.managed(PowerNode, pk)
        original = PowerNode.objects.get(pk=node.pk)
        form = node_form(request.POST, instance=node, site=node.site)
        if form.is_valid():
            try:
                services.power_node_update(node=original, **_node_fields(form.cleaned_data))
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The node was saved."))
                return HttpResponseRedirect(site_url(original.site_id))
        return render(
            request,
            "power/node_form.html",
            {"site": original.site, "form": form, "node": original},
            status=400,
        )


class NodeDeleteView(ManageMixin, View):
    def post(self, request, pk: int):
        node = self.managed(PowerNode, pk)
        site_id = node.site_id
        try:
            services.power_node_delete(node=node)
        except ValidationError as error:
            messages.error(request, "; ".join(error.messages))
        else:
            messages.success(request, _("The node was deleted."))
        return HttpResponseRedirect(site_url(site_id))


class StationNodeView(ManageMixin, View):
    """POST: hang a station of the site on a node (or take it off the tree)."""

    def post(self, request, pk: int):
        site = self.managed(Site, pk)
        form = StationNodeForm(request.POST, site=site)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.station_power_set(
                    station=data["station"],
                    node=data["node"],
                    breaker_rating_a=data["breaker_rating_a"],
                )
            except ValidationError as error:
                messages.error(request, "; ".join(error.messages))
            else:
                messages.success(request, _("The station was placed on the tree."))
        else:
            self.form_errors(form)
        return HttpResponseRedirect(site_url(site.pk))


class EvseWiringView(ManageMixin, View):
    """POST: how a port is wired (three-phase, single-phase, line to line; rotation)."""

    def post(self, request, pk: int):
        evse = self.managed(Evse, pk)
        form = EvseWiringForm(request.POST)
        if form.is_valid():
            try:
                services.evse_power_set(evse=evse, **form.cleaned_data)
            except ValidationError as error:
                messages.error(request, "; ".join(error.messages))
            else:
                messages.success(request, _("The wiring was saved."))
        else:
            self.form_errors(form)
        return HttpResponseRedirect(site_url(evse.station.site_id))
