"""Portal pages of the inventory: sites and stations, the station page and its remote control.

Reads are scoped by the base views (``restrict``); each remote command is one small view that
validates a form and calls one service of the OCPP command service, ``apps.ocpp.commands``
(which checks the permission on the station's site again, sends the command and writes the
audit entry, as for the API).
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Prefetch, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View

from apps.core.views import PermissionRequiredMixin, ScopedDetailView, ScopedListView

from .filtersets import SiteFilterSet, StationFilterSet
from .models import Evse, Site, Station


def ports_prefetch() -> Prefetch:
    return Prefetch("evses", queryset=Evse.objects.order_by("evse_id"))


class SiteListView(ScopedListView):
    model = Site
    permission = "sites.view"
    filterset_class = SiteFilterSet
    template_name = "stations/site_list.html"

    def get_queryset(self):
        queryset = super().get_queryset()
        if not queryset.query.order_by:
            queryset = queryset.order_by("name")
        return queryset.annotate(
            station_count=Count("stations", distinct=True),
            online_count=Count("stations", filter=Q(stations__is_online=True), distinct=True),
        )


class SiteDetailView(ScopedDetailView):
    model = Site
    permission = "sites.view"
    template_name = "stations/site_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["stations"] = (
            Station.objects.restrict(self.request.actor, "stations.view")
            .filter(site=self.object)
            .prefetch_related(ports_prefetch())
        )
        try:
            context["may_power"] = self.may("power.view", self.object.pk)
        except KeyError:  # the power app is not installed
            context["may_power"] = False
        return context


class StationListView(ScopedListView):
    model = Station
    permission = "stations.view"
    filterset_class = StationFilterSet
    template_name = "stations/station_list.html"
    # The filters the portal shows (the FilterSet has more, for the API).
    filter_fields = ("q", "site_id", "status", "vendor", "model", "firmware", "protocol", "online")
    filter_labels = {
        "site_id": gettext_lazy("Site"),
        "status": gettext_lazy("Status"),
        "protocol": gettext_lazy("OCPP"),
    }

    def get_queryset(self):
        return super().get_queryset().select_related("site").prefetch_related(ports_prefetch())

    def get_context_data(self, **kwargs):
        from apps.dashboard.selectors import inventory_choices

        form = self.filterset.form
        for name, datalist in (
            ("vendor", "vendors"),
            ("model", "models"),
            ("firmware", "firmware"),
        ):
            form.fields[name].widget.attrs["list"] = datalist
        context = super().get_context_data(**kwargs)
        context["choices"] = inventory_choices(actor=self.request.actor)
        return context


class StationDetailView(ScopedDetailView):
    model = Station
    permission = "stations.view"
    template_name = "stations/station_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("site")

    def get_context_data(self, **kwargs):
        from apps.dashboard.selectors import station_page
        from apps.dashboard.views import live_labels
        from apps.monitoring.forms import command_forms

        context = super().get_context_data(**kwargs)
        station = self.object
        site_id = station.site_id
        permissions = {
            "sessions": self.may("sessions.view", site_id),
            "command": self.may("stations.command", site_id),
            "configure": self.may("stations.configure", site_id),
        }
        context.update(
            station_page(station=station, with_sessions=permissions["sessions"]),
            may=permissions,
            forms=command_forms(station=station, actor=self.request.actor),
            labels=live_labels(),
        )
        return context


class StationMessageLogView(ScopedListView):
    """The OCPP frames of one station, newest first; filter by action and direction.  (There is
    no MessageLog FilterSet: these two filters are the whole need.)"""

    permission = "stations.view"
    template_name = "stations/message_log.html"
    paginate_by = 100

    def get_queryset(self):
        from apps.ocpp.models import MessageLog

        self.station = get_object_or_404(
            Station.objects.restrict(self.request.actor, self.permission), pk=self.kwargs["pk"]
        )
        queryset = MessageLog.objects.restrict(self.request.actor, self.permission).filter(
            station=self.station
        )
        action = self.request.GET.get("action", "").strip()
        direction = self.request.GET.get("direction", "")
        if action:
            queryset = queryset.filter(action__iexact=action)
        if direction in MessageLog.Direction.values:
            queryset = queryset.filter(direction=direction)
        return queryset

    def get_context_data(self, **kwargs):
        from apps.ocpp.models import MessageLog

        context = super().get_context_data(**kwargs)
        context["station"] = self.station
        context["directions"] = MessageLog.Direction.choices
        return context


# --- Remote control -------------------------------------------------------------------------
class StationCommandView(PermissionRequiredMixin, View):
    """POST a command form; answers with the outcome fragment (htmx) or back to the station
    page with the outcome as a message.  Subclasses name the form and call one service."""

    permission = "stations.command"
    form_name = ""
    http_method_names = ["post"]

    service = ""  # the name of the command service's function

    def post(self, request, pk: int):
        from apps.audit.choices import AuditSource
        from apps.monitoring.forms import COMMAND_FORMS
        from apps.ocpp.commands import Requester

        station = get_object_or_404(
            Station.objects.restrict(request.actor, self.permission).select_related("site"),
            pk=pk,
        )
        form = COMMAND_FORMS[self.form_name](request.POST, station=station, actor=request.actor)
        if not form.is_valid():
            return self.respond(station, outcome=None, form=form)
        requester = Requester(actor=request.actor, source=AuditSource.PORTAL, ip=client_ip(request))
        outcome = self.run(requester=requester, station=station, arguments=form.arguments())
        return self.respond(station, outcome=outcome, form=form)

    def run(self, *, requester, station, arguments):
        from apps.ocpp import commands

        service = getattr(commands, self.service)
        return service(requester=requester, station=station, **arguments)

    def respond(self, station, *, outcome, form):
        if request_is_htmx(self.request):
            return render(
                self.request,
                "stations/_command_result.html",
                {"outcome": outcome, "form": form, "station": station},
            )
        if outcome is None:
            messages.error(
                self.request,
                _("The command was not sent: %(errors)s")
                % {"errors": "; ".join(e for errors in form.errors.values() for e in errors)},
            )
        elif outcome.ok:
            messages.success(self.request, f"{outcome.action}: {outcome.message}")
        else:
            messages.error(self.request, f"{outcome.action}: {outcome.message}")
        return HttpResponseRedirect(reverse("stations:station_detail", args=[station.pk]))


def request_is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def client_ip(request) -> str | None:
    from apps.audit.services import client_ip as audit_client_ip

    return audit_client_ip(request)


class StationResetView(StationCommandView):
    form_name = "reset"
    service = "station_reset"


class StationUnlockView(StationCommandView):
    form_name = "unlock"
    service = "station_unlock"


class StationAvailabilityView(StationCommandView):
    form_name = "availability"
    service = "station_availability"


class StationTriggerView(StationCommandView):
    form_name = "trigger"
    service = "station_trigger_message"


class StationConfigurationReadView(StationCommandView):
    permission = "stations.configure"
    form_name = "configuration_read"
    service = "station_configuration_read"


class StationConfigurationChangeView(StationCommandView):
    permission = "stations.configure"
    form_name = "configuration_change"
    service = "station_configuration_change"


class SessionRemoteStartView(StationCommandView):
    form_name = "remote_start"
    service = "session_remote_start"


class SessionRemoteStopView(StationCommandView):
    form_name = "remote_stop"

    def run(self, *, requester, station, arguments):
        from apps.ocpp.commands import session_remote_stop

        return session_remote_stop(requester=requester, session=arguments["session"])


class StationLiveFragmentView(ScopedDetailView):
    """The station page's live panels, re-rendered when the live feed says a session started
    or ended (the page asks for it; nothing polls)."""

    model = Station
    permission = "stations.view"
    template_name = "stations/_station_sessions.html"

    def get_queryset(self):
        return super().get_queryset().select_related("site")

    def get_context_data(self, **kwargs):
        from apps.dashboard.selectors import station_page

        context = super().get_context_data(**kwargs)
        station = self.object
        context.update(
            station_page(station=station, with_sessions=self.may("sessions.view", station.site_id)),
            may={
                "sessions": self.may("sessions.view", station.site_id),
                "command": self.may("stations.command", station.site_id),
            },
            now=timezone.now(),
        )
        return context
