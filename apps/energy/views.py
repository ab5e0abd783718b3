"""Portal pages: upcoming and running demand-response events, their effect on each site (the
limit before and during, the energy shifted so far), and opting in or out."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import View

from apps.audit.services import audit_record_for_request
from apps.core.views import PermissionRequiredMixin, ScopedListView

from . import selectors, services
from .choices import EventStatus, Opt
from .filtersets import DemandResponseEventFilterSet
from .models import DemandResponseEvent, Ven

ENDED = (EventStatus.COMPLETED, EventStatus.CANCELLED)


class EventListView(ScopedListView):
    model = DemandResponseEvent
    permission = "energy.view"
    template_name = "energy/event_list.html"
    filterset_class = DemandResponseEventFilterSet
    filter_fields = ("site_id", "status")

    def get_queryset(self):
        return super().get_queryset().select_related("ven", "ven__site", "ven__node")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = []
        events = list(context["object_list"])
        shifted = selectors.energy_shifted_wh(events)
        for event in events:
            rows.append(
                {
                    "event": event,
                    "shifted_wh": shifted[event.pk],
                    "may_opt": event.status not in ENDED
                    and self.may("energy.manage", event.ven.site_id),
                }
            )
        context["rows"] = rows
        context["vens"] = Ven.objects.restrict(self.request.actor, "energy.view").select_related(
            "site"
        )
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
