"""Portal pages of monitoring: alerts, the person's alert e-mails, uptime per station."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView

from apps.core.views import PermissionRequiredMixin, ScopedListView
from apps.stations.models import Site, Station

from .filtersets import AlertFilterSet
from .forms import AlertSubscriptionForm
from .models import Alert
from .selectors import alert_subscription_of, station_uptime
from .services import alert_subscription_set

UPTIME_WINDOWS = (1, 7, 30, 90)


class AlertListView(ScopedListView):
    model = Alert
    permission = "stations.view"
    filterset_class = AlertFilterSet
    template_name = "monitoring/alert_list.html"
    filter_fields = ("q", "is_open", "kind", "site_id", "raised_after", "raised_before")
    filter_labels = {"site_id": gettext_lazy("Site")}

    def get_queryset(self):
        return super().get_queryset().select_related("station", "station__site", "evse")


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
