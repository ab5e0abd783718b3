"""Portal pages of monitoring: alerts, the person's alert e-mails, uptime per station."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView

from apps.audit.choices import AuditSource
from apps.audit.services import audit_record_for_request
from apps.audit.services import client_ip as audit_client_ip
from apps.core.views import PermissionRequiredMixin, ScopedDetailView, ScopedListView
from apps.monitoring.forms import COMMAND_FORMS
from apps.ocpp import commands
from apps.ocpp.commands import Requester, session_remote_stop
from apps.stations.models import Site, Station

from . import services
from .filtersets import AlertFilterSet
from .forms import AlertActionForm, AlertSubscriptionForm
from .models import Alert
from .selectors import alert_subscription_of, station_uptime
from .services import alert_subscription_set
from .services.remote import remote_start_queue

UPTIME_WINDOWS = (1, 7, 30, 90)


class AlertListView(ScopedListView):
    model = Alert
    permission = "stations.view"
    filterset_class = AlertFilterSet
    template_name = "monitoring/alert_list.html"
    filter_fields = (
        "q",
        "is_open",
        "severity",
        "is_acknowledged",
        "kind",
        "site_id",
        "raised_after",
        "raised_before",
    )
    filter_labels = {"site_id": gettext_lazy("Site")}

    def get_queryset(self):
        return super().get_queryset().select_related("station", "station__site", "evse")


MANAGE = "alerts.manage"


class AlertDetailView(ScopedDetailView):
    """One alert: what, where, since when, who acknowledged or resolved it; the acknowledge
    and resolve forms for those who hold ``alerts.manage`` on its site."""

    model = Alert
    permission = "stations.view"
    template_name = "monitoring/alert_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("station", "station__site", "evse")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_manage"] = self.may(MANAGE, self.object.station.site_id)
        context["action_form"] = AlertActionForm()
        return context


class AlertActionView(PermissionRequiredMixin, View):
    """POST: acknowledge or resolve one alert through its service, audited as the API does.
    An alert the person cannot see is 404; one they see without ``alerts.manage`` on its site
    is 403."""

    permission = MANAGE
    http_method_names = ["post"]
    verb = ""

    def service(self, **kwargs) -> Alert:
        raise NotImplementedError

    def done_message(self, alert: Alert, *, was_acknowledged: bool) -> str:
        raise NotImplementedError

    def post(self, request, pk: int):
        visible = Alert.objects.restrict(request.actor, "stations.view")
        alert = get_object_or_404(visible.select_related("station", "evse"), pk=pk)
        if not self.may(MANAGE, alert.station.site_id):
            raise PermissionDenied
        form = AlertActionForm(request.POST)
        if not form.is_valid():
            messages.error(
                request,
                "; ".join(error for errors in form.errors.values() for error in errors),
            )
            return redirect("monitoring:alert_detail", pk=alert.pk)
        note = form.cleaned_data["note"]
        was_acknowledged = alert.is_acknowledged
        try:
            alert = self.service(alert=alert, actor=request.actor, note=note)
        except services.AlertClosed:
            messages.error(
                request, _("This alert has already closed: there is nothing left to do.")
            )
            return redirect("monitoring:alert_detail", pk=alert.pk)
        audit_record_for_request(
            request,
            action=f"alert.{self.verb}",
            obj=alert,
            changes={"note": note} if note else None,
        )
        messages.success(request, self.done_message(alert, was_acknowledged=was_acknowledged))
        return redirect("monitoring:alert_detail", pk=alert.pk)


class AlertAcknowledgeView(AlertActionView):
    verb = "acknowledge"

    def service(self, **kwargs) -> Alert:
        return services.alert_acknowledge(**kwargs)

    def done_message(self, alert: Alert, *, was_acknowledged: bool) -> str:
        mine = alert.acknowledged_by == self.request.actor.label[:255]
        if was_acknowledged or not mine:  # the first acknowledgement stands
            return _("This alert was already acknowledged by %(who)s.") % {
                "who": alert.acknowledged_by or "—"
            }
        return _("Alert acknowledged.")


class AlertResolveView(AlertActionView):
    verb = "resolve"

    def service(self, **kwargs) -> Alert:
        return services.alert_resolve(**kwargs)

    def done_message(self, alert: Alert, *, was_acknowledged: bool) -> str:
        return _("Alert resolved. If the station is still down, a new alert will be raised.")


class AlertSubscriptionView(PermissionRequiredMixin, FormView):
    """What alerts I am e-mailed about (only on sites I may see)."""

    permission = "stations.view"
    form_class = AlertSubscriptionForm
    template_name = "monitoring/subscription.html"

    def sites(self):
        return Site.objects.restrict(self.request.actor, "stations.view")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["sites_queryset"] = self.sites()
        return kwargs

    def get_initial(self):
        subscription = alert_subscription_of(user=self.request.user)
        if subscription is None:
            return {"all_sites": True, "notify_on_clear": True}
        return {
            "kinds": subscription.kinds,
            "all_sites": subscription.all_sites,
            "sites": list(subscription.sites.all()),
            "notify_on_clear": subscription.notify_on_clear,
        }

    def form_valid(self, form):
        data = form.cleaned_data
        alert_subscription_set(
            user=self.request.user,
            kinds=data["kinds"],
            all_sites=data["all_sites"],
            sites=data["sites"],
            notify_on_clear=data["notify_on_clear"],
        )
        messages.success(self.request, _("Your alert e-mails are saved."))
        return redirect("monitoring:subscription")


class UptimeView(ScopedListView):
    """Connectivity uptime and faulted time per station over a chosen window."""

    model = Station
    permission = "stations.view"
    template_name = "monitoring/uptime.html"
    paginate_by = 100

    def window_days(self) -> int:
        try:
            days = int(self.request.GET.get("days", 30))
        except ValueError:
            days = 30
        return days if days in UPTIME_WINDOWS else 30

    def get_queryset(self):
        return super().get_queryset().select_related("site").order_by("site__name", "identity")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        days = self.window_days()
        end = timezone.now()
        uptime = station_uptime(
            stations=context["object_list"], start=end - dt.timedelta(days=days), end=end
        )
        context["rows"] = [(station, uptime.get(station.pk)) for station in context["object_list"]]
        context["days"] = days
        context["windows"] = UPTIME_WINDOWS
        return context


# --- Remote control of a station -------------------------------------------------------------
# These views act on the core's station page and keep the core's URLs and names
# (``stations:station_reset`` ...): ``MonitoringConfig.ready`` adds them to the stations URLconf
# through ``apps.core.panels.register_route``.
class StationCommandView(PermissionRequiredMixin, View):
    """POST a command form; answers with the outcome fragment (htmx) or back to the station
    page with the outcome as a message.  Subclasses name the form and call one service."""

    permission = "stations.command"
    form_name = ""
    http_method_names = ["post"]

    service = ""  # the name of the command service's function

    def post(self, request, pk: int):
        station = get_object_or_404(
            Station.objects.restrict(request.actor, self.permission).select_related("site"),
            pk=pk,
        )
        form = COMMAND_FORMS[self.form_name](request.POST, station=station, actor=request.actor)
        versions = getattr(form, "versions", None)
        if versions and (station.ocpp_version or "1.6") not in versions:
            form.is_valid()
            form.add_error(
                None,
                _("OCPP %(version)s has no such command.")
                % {"version": station.ocpp_version or "1.6"},
            )
            return self.respond(station, outcome=None, form=form)
        if not form.is_valid():
            return self.respond(station, outcome=None, form=form)
        requester = Requester(actor=request.actor, source=AuditSource.PORTAL, ip=client_ip(request))
        outcome = self.run(requester=requester, station=station, arguments=form.arguments())
        return self.respond(station, outcome=outcome, form=form)

    def run(self, *, requester, station, arguments):
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


class StationPasswordRotateView(StationCommandView):
    permission = "stations.configure"
    form_name = "password_rotate"
    service = "station_password_rotate"


class SessionRemoteStartView(StationCommandView):
    """Answers at once: the station may take up to the OCPP timeout (30 s) to answer, so a
    worker waits for it and the answer, then the session, arrive on the live feed."""

    form_name = "remote_start"

    def run(self, *, requester, station, arguments):
        pending = PendingCommand(ref=secrets.token_hex(8), evse_id=arguments["evse_id"])
        remote_start_queue(
            ref=pending.ref,
            user=self.request.user,
            station=station,
            evse_id=arguments["evse_id"],
            id_token=arguments["id_token"],
            ip=requester.ip,
        )
        return pending

    def respond(self, station, *, outcome, form):
        if not isinstance(outcome, PendingCommand):
            return super().respond(station, outcome=outcome, form=form)
        if request_is_htmx(self.request):
            return render(
                self.request,
                "stations/_command_pending.html",
                {"pending": outcome, "station": station},
            )
        messages.info(
            self.request,
            _("Start a session: sent; the session shows here once the station starts it."),
        )
        return HttpResponseRedirect(reverse("stations:station_detail", args=[station.pk]))


@dataclass(frozen=True)
class PendingCommand:
    """A command sent on by a worker; its answer comes on the live feed with ``ref``."""

    ref: str
    evse_id: int


class SessionRemoteStopView(StationCommandView):
    form_name = "remote_stop"

    def run(self, *, requester, station, arguments):
        return session_remote_stop(requester=requester, session=arguments["session"])


# Reservations, smart charging, local list, logs, firmware, display messages, data transfer:
# one view each, ``stations.command`` on the station's site, one command service each.
class StationReserveView(StationCommandView):
    form_name = "reserve"
    service = "reservation_reserve_now"


class StationCancelReservationView(StationCommandView):
    form_name = "cancel_reservation"
    service = "reservation_cancel"


class StationChargingProfileSetView(StationCommandView):
    form_name = "charging_profile_set"
    service = "station_charging_profile_set"


class StationChargingProfileClearView(StationCommandView):
    form_name = "charging_profile_clear"
    service = "station_charging_profile_clear"


class StationCompositeScheduleView(StationCommandView):
    form_name = "composite_schedule"
    service = "station_composite_schedule"


class StationLocalListVersionView(StationCommandView):
    form_name = "local_list_version"
    service = "station_local_list_version"


class StationLocalListSendView(StationCommandView):
    form_name = "local_list_send"
    service = "station_local_list_send"


class StationLogsUploadView(StationCommandView):
    form_name = "logs_upload"
    service = "station_logs_upload"


class StationFirmwareUpdateView(StationCommandView):
    form_name = "firmware_update"
    service = "station_update_firmware"


class StationDisplayMessageView(StationCommandView):
    form_name = "display_message"
    service = "station_display_message"


class StationDisplayMessagesGetView(StationCommandView):
    form_name = "display_messages_get"
    service = "station_display_messages_get"


class StationDisplayMessageClearView(StationCommandView):
    form_name = "display_message_clear"
    service = "station_display_message_clear"


class StationDataTransferView(StationCommandView):
    form_name = "data_transfer"
    service = "station_data_transfer"


class StationReportRequestView(StationCommandView):
    permission = "stations.configure"
    form_name = "report_request"
    service = "station_report_request"


# --- Bulk commands over a filtered list of stations -------------------------------------------
class StationBulkCommandView(PermissionRequiredMixin, View):
    """The station list's filter (its query string) names the stations; one command goes to
    each the person may command, by a Celery task, followed on the job's page."""

    permission = "stations.command"

    def stations(self):
        from apps.stations.filtersets import StationFilterSet

        query = self.request.GET.copy()
        for name in ("page", "ordering"):
            query.pop(name, None)
        self.filterset = StationFilterSet(
            query,
            queryset=Station.objects.restrict(self.request.actor, "stations.view"),
            request=self.request,
        )
        self.filter_query = query.urlencode()
        return self.filterset.qs

    def page(self, form, status: int = 200):
        from .services.bulk import BULK_PERMISSIONS, bulk_stations

        stations = self.stations()
        counts = {
            command: bulk_stations(actor=self.request.actor, command=command, stations=stations)
            for command in BULK_PERMISSIONS
        }
        commandable = counts["reset"]
        context = {
            "form": form,
            "filter_errors": self.filterset.errors,
            "filter_query": self.filter_query,
            "count": commandable.count(),
            "configurable_count": counts["configuration"].count(),
            "sample": list(commandable.values_list("identity", flat=True)[:12]),
        }
        return render(self.request, "monitoring/bulk_form.html", context, status=status)

    def get(self, request):
        from .forms import BulkCommandForm

        return self.page(BulkCommandForm())

    def post(self, request):
        from .forms import BulkCommandForm
        from .services.bulk import bulk_command_start

        form = BulkCommandForm(request.POST)
        if form.is_valid():
            command, arguments = form.command_and_arguments()
            try:
                job = bulk_command_start(
                    actor=request.actor,
                    user=request.user,
                    command=command,
                    arguments=arguments,
                    stations=self.stations(),
                    filter_query=self.filter_query,
                )
            except PermissionDenied:
                form.add_error(None, _("None of these stations may receive this command from you."))
            except ValidationError as error:
                for messages_ in error.message_dict.values():
                    form.add_error(None, messages_)
            else:
                return HttpResponseRedirect(reverse("stations:bulk_command_detail", args=[job.pk]))
        return self.page(form, status=400)


class BulkCommandDetailView(PermissionRequiredMixin, View):
    """A bulk command's progress, live: the stations the person may see, and the counts."""

    permission = "stations.view"

    def get(self, request, pk: int):
        from .models import BulkCommand, BulkCommandItem
        from .services.bulk import bulk_progress

        job = get_object_or_404(BulkCommand.objects.select_related("created_by"), pk=pk)
        items = (
            BulkCommandItem.objects.restrict(request.actor, self.permission)
            .filter(job=job)
            .select_related("station", "station__site")
        )
        if job.created_by_id != request.user.pk and not items.exists():
            raise Http404
        context = {
            "job": job,
            "items": list(items),
            "progress": bulk_progress(job=job),
            "labels": {s.value: str(s.label) for s in BulkCommandItem.Status},
        }
        return render(request, "monitoring/bulk_detail.html", context)
