"""Portal pages: upcoming and running demand-response events, their effect on each site (the
limit before and during, the energy shifted so far), and opting in or out."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import View

from apps.audit.services import audit_record_for_request
from apps.core.views import PermissionRequiredMixin, ScopedListView
from apps.stations.models import Site

from . import pem, selectors, services
from .choices import EventStatus, Opt, PollOutcome
from .filtersets import DemandResponseEventFilterSet
from .forms import VenForm
from .limits import PowerNode
from .models import DemandResponseEvent, Ven

ENDED = (EventStatus.COMPLETED, EventStatus.CANCELLED)


class EventListView(ScopedListView):
    model = DemandResponseEvent
    permission = "energy.view"
    template_name = "energy/event_list.html"
    filterset_class = DemandResponseEventFilterSet
    filter_fields = ("site_id", "status")

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("ven", "ven__site", "ven__node")
            .prefetch_related("node_limits__node__site")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = []
        events = list(context["object_list"])
        shifted = selectors.energy_shifted_wh(events)
        for event in events:
            # "group": a group VEN's event, each site's node and its limits
            rows.append(
                {
                    "event": event,
                    "shifted_wh": shifted[event.pk],
                    "group": group if len(group := list(event.node_limits.all())) > 1 else [],
                    "may_opt": event.status not in ENDED
                    and self.may("energy.manage", event.ven.site_id),
                }
            )
        context["rows"] = rows
        context["vens"] = [
            {"ven": ven, "may_manage": self.may("energy.manage", ven.site_id)}
            for ven in Ven.objects.restrict(self.request.actor, "energy.view").select_related(
                "site"
            )
        ]
        context["manageable_sites"] = Site.objects.restrict(
            self.request.actor, "energy.manage"
        ).order_by("name")
        context["opt_in"], context["opt_out"] = Opt.IN, Opt.OUT
        return context


class EventOptView(PermissionRequiredMixin, View):
    """POST ``opt`` (optIn / optOut) for one event."""

    permission = "energy.manage"

    def post(self, request, pk):
        event = get_object_or_404(
            DemandResponseEvent.objects.restrict(request.actor, self.permission), pk=pk
        )
        opt = request.POST.get("opt", "")
        if opt not in Opt.values:
            raise PermissionDenied
        before = event.opt
        try:
            event = services.event_opt_set(event=event, opt=opt)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            audit_record_for_request(
                request, action="energy_event.opt", obj=event, changes={"opt": [before, opt]}
            )
            if opt == Opt.OUT:
                messages.success(request, _("Opted out: the site's limits are back to normal."))
            else:
                messages.success(request, _("Taking part: the event's limits apply."))
        return HttpResponseRedirect(reverse("energy:event_list"))


# --- Setting up a VEN (energy.manage) --------------------------------------------------------


def _ven_changes(before: dict, after: dict) -> dict:
    """What changed, for the audit log: the private key only as "(set)"/"(removed)"."""
    changes = {}
    for name, value in after.items():
        old = before.get(name)
        if name == "client_key_pem":
            if value or old:
                changes[name] = [None, "(set)" if value else "(removed)"]
            continue
        if name == "member_nodes":
            value = sorted(node.pk for node in value)
            if old != value and (old or value):
                changes[name] = [old, value]
            continue
        if hasattr(value, "pk"):
            value, old = value.pk, getattr(old, "pk", old)
        if old != value:
            changes[name] = [None if old is None else str(old), str(value)]
    return changes


class VenFormView(PermissionRequiredMixin, View):
    """Create (``?site=``) or edit a VEN: connection, certificates (uploaded), signal levels."""

    permission = "energy.manage"

    def _site_and_ven(self, request, pk=None):
        if pk is not None:
            ven = get_object_or_404(Ven.objects.restrict(request.actor, self.permission), pk=pk)
            return ven.site, ven
        site = get_object_or_404(
            Site.objects.restrict(request.actor, self.permission), pk=request.GET.get("site")
        )
        return site, None

    def _members(self):
        return PowerNode.objects.restrict(self.request.actor, self.permission)

    def _render(self, request, form, site, ven):
        return render(
            request,
            "energy/ven_form.html",
            {
                "form": form,
                "site": site,
                "ven": ven,
                "client_fingerprint": pem.fingerprint_of(ven.client_cert_pem) if ven else "",
            },
        )

    def get(self, request, pk=None):
        site, ven = self._site_and_ven(request, pk)
        return self._render(
            request, VenForm(site=site, ven=ven, members=self._members()), site, ven
        )

    def post(self, request, pk=None):
        site, ven = self._site_and_ven(request, pk)
        form = VenForm(request.POST, request.FILES, site=site, ven=ven, members=self._members())
        if form.is_valid():
            values = form.settings()
            before = {
                name: getattr(ven, name, None)
                for name in values
                if name not in ("client_key_pem", "member_nodes")
            }
            if ven is not None:
                before["member_nodes"] = sorted(m.node_id for m in ven.members.all())
            try:
                if ven is None:
                    ven = services.ven_create(site=site, **values)
                    action = "energy_ven.create"
                else:
                    ven = services.ven_update(ven=ven, **values)
                    action = "energy_ven.update"
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                audit_record_for_request(
                    request, action=action, obj=ven, changes=_ven_changes(before, values)
                )
                messages.success(request, _("VEN saved."))
                return HttpResponseRedirect(reverse("energy:ven_edit", args=[ven.pk]))
        return self._render(request, form, site, ven)


class VenDeleteView(PermissionRequiredMixin, View):
    """Delete a VEN: its running events' limits end now, the VTN is no longer polled."""

    permission = "energy.manage"

    def post(self, request, pk):
        ven = get_object_or_404(Ven.objects.restrict(request.actor, self.permission), pk=pk)
        audit_record_for_request(request, action="energy_ven.delete", obj=ven)
        services.ven_delete(ven=ven)
        messages.success(request, _("VEN deleted: its events no longer limit the site."))
        return HttpResponseRedirect(reverse("energy:event_list"))


class VenTestView(PermissionRequiredMixin, View):
    """Test the connection now: register if needed and poll the VTN once (synchronously, as
    the poll task would), then show what happened."""

    permission = "energy.manage"

    def post(self, request, pk):
        ven = get_object_or_404(Ven.objects.restrict(request.actor, self.permission), pk=pk)
        if not ven.is_active:
            messages.error(request, _("This VEN is not active: activate it first."))
            return HttpResponseRedirect(reverse("energy:ven_edit", args=[ven.pk]))
        result = services.ven_poll(ven_id=ven.pk, force=True)
        audit_record_for_request(
            request,
            action="energy_ven.test",
            obj=ven,
            changes={"outcome": result.outcome if result else None},
            succeeded=bool(result and result.outcome == PollOutcome.OK),
        )
        ven.refresh_from_db()
        if result is not None and result.outcome == PollOutcome.OK:
            messages.success(
                request,
                _("Registered with the VTN (VEN ID %(ven_id)s); %(events)s event(s) listed.")
                % {"ven_id": ven.ven_id, "events": result.events},
            )
        else:
            messages.error(
                request,
                _("The VTN test failed: %(error)s")
                % {"error": (result.error if result else "") or ven.get_last_outcome_display()},
            )
        return HttpResponseRedirect(reverse("energy:ven_edit", args=[ven.pk]))
