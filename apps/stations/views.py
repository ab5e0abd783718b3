"""Portal pages of the inventory: sites, stations, the station page and its live fragment.

Reads are scoped by the base views (``restrict``) and come from ``selectors``.  What feature
apps show on these pages (alerts, uptime, remote control, power) are panels they register in
``apps.core.panels``; the remote-control views themselves live in ``apps.monitoring.views``
and are added to this app's URLs by registration.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, ProtectedError, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from apps.core import panels
from apps.core.maps import map_tiles
from apps.core.views import PanelsMixin, PermissionRequiredMixin, ScopedDetailView, ScopedListView
from apps.ocpp.models import MessageLog

from . import services
from .choices import LiveState
from .filtersets import SiteFilterSet, StationFilterSet
from .forms import (
    ConnectorForm,
    EvseAddForm,
    EvseForm,
    MessageLimitsForm,
    SiteForm,
    StationEditForm,
    StationRegisterForm,
)
from .models import Connector, Evse, Site, Station
from .passwords import generate_station_password
from .selectors import inventory_choices, portal_search, station_page, station_sessions_now


def ports_prefetch() -> Prefetch:
    return Prefetch("evses", queryset=Evse.objects.order_by("evse_id"))


class SiteListView(ScopedListView):
    model = Site
    permission = "sites.view"
    filterset_class = SiteFilterSet
    template_name = "stations/site_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_create"] = self.request.actor.scope_for("sites.manage").all_sites
        return context

    def get_queryset(self):
        queryset = super().get_queryset()
        if "archived" not in self.request.GET:  # archived sites only when asked
            queryset = queryset.filter(archived_at__isnull=True)
        if not queryset.query.order_by:
            queryset = queryset.order_by("name")
        return queryset.annotate(
            station_count=Count("stations", distinct=True),
            online_count=Count("stations", filter=Q(stations__is_online=True), distinct=True),
        )


class SiteManageMixin(PermissionRequiredMixin):
    """Creating, editing and deleting sites: ``sites.manage``.  A site outside the caller's
    scope is a 404 (exactly like one that does not exist); one they may only see is a 403.
    Writes call the services the API calls (``services.site_*``)."""

    permission = "sites.manage"
    template_name = "stations/site_form.html"

    def managed_site(self, pk: int) -> Site:
        site = Site.objects.restrict(self.request.actor, self.permission).filter(pk=pk).first()
        if site is None:
            if Site.objects.restrict(self.request.actor, "sites.view").filter(pk=pk).exists():
                raise PermissionDenied
            raise Http404
        return site

    def form_page(self, form, site: Site | None = None, status: int = 200):
        return render(
            self.request,
            self.template_name,
            {"form": form, "site": site, "map_tiles": map_tiles()},
            status=status,
        )

    def saved(self, form, save) -> Site | None:
        """Run the service; its validation errors go next to their fields."""
        try:
            return save(**form.service_fields())
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, error)
            return None


class SiteCreateView(SiteManageMixin, View):
    """A new site.  Only a caller who manages every site creates one: a site is the unit that
    scoped roles are granted on, and a new one is in nobody's scoped grant."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.actor.scope_for(self.permission).all_sites:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        tenant_zone = getattr(getattr(request, "tenant", None), "timezone", "") or "UTC"
        return self.form_page(SiteForm(initial={"timezone": tenant_zone}))

    def post(self, request):
        form = SiteForm(request.POST)
        if form.is_valid():
            site = self.saved(form, services.site_create)
            if site is not None:
                messages.success(request, _("The site was created."))
                return HttpResponseRedirect(reverse("stations:site_detail", args=[site.pk]))
        return self.form_page(form, status=400)


class SiteEditView(SiteManageMixin, View):
    def get(self, request, pk: int):
        site = self.managed_site(pk)
        return self.form_page(SiteForm(instance=site), site)

    def post(self, request, pk: int):
        site = self.managed_site(pk)
        original = Site.objects.get(pk=site.pk)
        form = SiteForm(request.POST, instance=site)
        if form.is_valid():
            saved = self.saved(form, lambda **fields: services.site_update(site=original, **fields))
            if saved is not None:
                messages.success(request, _("The site was saved."))
                return HttpResponseRedirect(reverse("stations:site_detail", args=[saved.pk]))
        return self.form_page(form, original, status=400)


class SiteDeleteView(SiteManageMixin, View):
    """POST: delete a site that has no stations left (move or retire them first)."""

    def post(self, request, pk: int):
        site = self.managed_site(pk)
        try:
            services.site_delete(site=site)
        except ProtectedError:
            messages.error(
                request, _("This site still has stations or records: move or retire them first.")
            )
            return HttpResponseRedirect(reverse("stations:site_detail", args=[site.pk]))
        messages.success(request, _("The site was deleted."))
        return HttpResponseRedirect(reverse("stations:site_list"))


class SiteArchiveView(SiteManageMixin, View):
    """POST: archive a site whose stations are all retired or moved (``site_archive``, as the
    API); ``restore`` brings it back."""

    restore = False

    def post(self, request, pk: int):
        site = self.managed_site(pk)
        if self.restore:
            services.site_restore(site=site)
            _audit(request, "site.restore", site)
            messages.success(request, _("The site is back in the lists."))
        else:
            try:
                services.site_archive(site=site)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                _audit(request, "site.archive", site)
                messages.success(request, _("The site was archived; its history is kept."))
        return HttpResponseRedirect(reverse("stations:site_detail", args=[site.pk]))


def _audit(request, action: str, obj, **fields) -> None:
    from apps.audit.services import audit_record_for_request

    audit_record_for_request(request, action=action, obj=obj, **fields)


class SiteDetailView(PanelsMixin, ScopedDetailView):
    model = Site
    permission = "sites.view"
    template_name = "stations/site_detail.html"
    panel_page = panels.SITE

    def panel_site_id(self, obj) -> int | None:
        return obj.pk

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_manage"] = self.may("sites.manage", self.object.pk)
        context["stations"] = (
            Station.objects.restrict(self.request.actor, "stations.view")
            .filter(site=self.object)
            .prefetch_related(ports_prefetch())
        )
        return context


class StationListView(ScopedListView):
    model = Station
    permission = "stations.view"
    filterset_class = StationFilterSet
    template_name = "stations/station_list.html"
    # The filters the portal shows (the FilterSet has more, for the API).
    filter_fields = (
        "q",
        "site_id",
        "status",
        "tag",
        "vendor",
        "model",
        "firmware",
        "protocol",
        "online",
        "retired",
    )
    filter_labels = {
        "site_id": gettext_lazy("Site"),
        "status": gettext_lazy("Status"),
        "protocol": gettext_lazy("OCPP"),
    }

    def get_queryset(self):
        queryset = super().get_queryset()
        if not self.request.GET.get("retired"):  # retired stations only when asked
            queryset = queryset.filter(retired_at__isnull=True)
        return queryset.select_related("site").prefetch_related(ports_prefetch())

    def get_context_data(self, **kwargs):
        form = self.filterset.form
        for name, datalist in (
            ("vendor", "vendors"),
            ("model", "models"),
            ("firmware", "firmware"),
            ("tag", "tags"),
        ):
            form.fields[name].widget.attrs["list"] = datalist
        context = super().get_context_data(**kwargs)
        context["choices"] = inventory_choices(actor=self.request.actor)
        context["may_register"] = not self.request.actor.scope_for("stations.configure").empty
        context["may_command"] = not self.request.actor.scope_for("stations.command").empty
        return context


class StationConfigureMixin(PermissionRequiredMixin):
    """Registering and editing stations: ``stations.configure`` (on the station's site; 404
    outside the caller's scope, 403 where they may only look).  Writes call the services the
    API calls."""

    permission = "stations.configure"

    def configured_station(self, pk: int) -> Station:
        station = (
            Station.objects.restrict(self.request.actor, self.permission)
            .select_related("site")
            .filter(pk=pk)
            .first()
        )
        if station is None:
            if Station.objects.restrict(self.request.actor, "stations.view").filter(pk=pk).exists():
                raise PermissionDenied
            raise Http404
        return station

    def password_page(self, station: Station, password: str, created: bool):
        """The password, shown this once (it is stored only as a hash) and never cached."""
        response = render(
            self.request,
            "stations/station_password.html",
            {"station": station, "password": password, "created": created},
            status=201 if created else 200,
        )
        response["Cache-Control"] = "no-store"
        return response


class StationRegisterView(StationConfigureMixin, View):
    template_name = "stations/station_form.html"

    def get(self, request):
        form = StationRegisterForm(actor=request.actor, initial={"site": request.GET.get("site")})
        return render(request, self.template_name, {"form": form})

    def post(self, request):
        form = StationRegisterForm(request.POST, actor=request.actor)
        if form.is_valid():
            data = dict(form.cleaned_data)
            password = data.pop("password") or generate_station_password()
            try:
                station = services.station_register(password=password, **data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return self.password_page(station, password, created=True)
        return render(request, self.template_name, {"form": form}, status=400)


class StationEditView(StationConfigureMixin, View):
    template_name = "stations/station_form.html"

    def get(self, request, pk: int):
        station = self.configured_station(pk)
        form = StationEditForm(instance=station, actor=request.actor)
        return render(request, self.template_name, self.context(form, station))

    def context(self, form, station) -> dict:
        ports = (
            Evse.objects.filter(station=station)
            .order_by("evse_id")
            .prefetch_related(
                Prefetch("connectors", queryset=Connector.objects.order_by("connector_id"))
            )
        )
        return {"form": form, "station": station, "ports": ports}

    def post(self, request, pk: int):
        station = self.configured_station(pk)
        original = Station.objects.select_related("site").get(pk=station.pk)
        form = StationEditForm(request.POST, instance=station, actor=request.actor)
        if form.is_valid():
            try:
                services.station_update(station=original, **form.service_fields())
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The station was saved."))
                return HttpResponseRedirect(reverse("stations:station_detail", args=[pk]))
        return render(request, self.template_name, self.context(form, original), status=400)


class StationPasswordView(StationConfigureMixin, View):
    """POST: a new generated password for the station, shown once.  The station must be given
    it (SetVariables / ChangeConfiguration, or on the charger) before its next connection."""

    def post(self, request, pk: int):
        station = self.configured_station(pk)
        password = generate_station_password()
        services.station_update(station=station, password=password)
        return self.password_page(station, password, created=False)


class StationMessageLimitsView(StationConfigureMixin, View):
    """OCPP 2.0.1 B06-B08: the station's ItemsPerMessage / BytesPerMessage as it reported
    them, and overrides for firmware that reports wrongly (they win; every GetVariables,
    SetVariables and GetReport is split to fit).  The API's ``message-limits`` endpoint writes
    through the same service."""

    template_name = "stations/station_message_limits.html"

    def limits(self, station: Station):
        from apps.ocpp.selectors import station_message_limits

        return station_message_limits(station_id=station.pk)

    def page(self, station: Station, form: MessageLimitsForm, limits, status: int = 200):
        rows = [
            {
                "key": key,
                "field": form[MessageLimitsForm.field_name(key)],
                "reported": limits.reported.get(key),
                "effective": limits.effective.get(key),
            }
            for key in (
                f"{measure}/{request}"
                for request in MessageLimitsForm.REQUESTS
                for measure in MessageLimitsForm.MEASURES
            )
        ]
        context = {"station": station, "form": form, "rows": rows}
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, pk: int):
        station = self.configured_station(pk)
        limits = self.limits(station)
        initial = {MessageLimitsForm.field_name(k): v for k, v in limits.overrides.items()}
        form = MessageLimitsForm(initial=initial)
        return self.page(station, form, limits)

    def post(self, request, pk: int):
        from apps.ocpp.services import message_limits_override

        station = self.configured_station(pk)
        limits = self.limits(station)
        form = MessageLimitsForm(request.POST)
        if form.is_valid():
            try:
                message_limits_override(station_id=station.pk, overrides=form.overrides())
            except ValidationError as error:
                form.add_service_errors(error.message_dict)
            else:
                messages.success(request, _("The message limits were saved."))
                return HttpResponseRedirect(reverse("stations:station_message_limits", args=[pk]))
        return self.page(station, form, limits, status=400)


class StationRetireView(StationConfigureMixin, View):
    """POST: retire a station for good (``station_retire``, as the API): it cannot connect
    again and leaves the lists; its sessions and history stay."""

    def post(self, request, pk: int):
        station = self.configured_station(pk)
        if station.retired_at is None:
            services.station_retire(station=station)
            _audit(request, "station.retire", station)
            messages.success(request, _("The station was retired; its history is kept."))
        return HttpResponseRedirect(reverse("stations:station_detail", args=[pk]))


class PortFormMixin(StationConfigureMixin):
    """Ports and connectors: ``stations.configure`` on the station's site."""

    template_name = "stations/port_form.html"

    def page(self, form, station, title, status=200):
        return render(
            self.request,
            self.template_name,
            {"form": form, "station": station, "title": title},
            status=status,
        )

    def saved(self, form, save) -> bool:
        try:
            save(**form.service_fields())
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, error)
            return False
        return True

    def done(self, station, text):
        messages.success(self.request, text)
        return HttpResponseRedirect(reverse("stations:station_edit", args=[station.pk]))


class EvseCreateView(PortFormMixin, View):
    def get(self, request, pk: int):
        station = self.configured_station(pk)
        return self.page(EvseAddForm(), station, _("Add a port"))

    def post(self, request, pk: int):
        station = self.configured_station(pk)
        form = EvseAddForm(request.POST)
        if form.is_valid() and self.saved(
            form, lambda **fields: services.evse_add(station=station, **fields)
        ):
            _audit(request, "evse.create", station)
            return self.done(station, _("The port was added."))
        return self.page(form, station, _("Add a port"), status=400)


class EvseEditView(PortFormMixin, View):
    def evse(self, pk: int) -> Evse:
        evse = get_object_or_404(Evse.objects.select_related("station"), pk=pk)
        self.configured_station(evse.station_id)  # 404 / 403 by the station's site
        return evse

    def get(self, request, pk: int):
        evse = self.evse(pk)
        title = _("Port %(number)s") % {"number": evse.evse_id}
        return self.page(EvseForm(instance=evse), evse.station, title)

    def post(self, request, pk: int):
        evse = self.evse(pk)
        original = Evse.objects.get(pk=pk)
        form = EvseForm(request.POST, instance=evse)
        if form.is_valid() and self.saved(
            form, lambda **fields: services.evse_update(evse=original, **fields)
        ):
            _audit(request, "evse.update", original)
            return self.done(evse.station, _("The port was saved."))
        title = _("Port %(number)s") % {"number": original.evse_id}
        return self.page(form, evse.station, title, status=400)


class ConnectorEditView(PortFormMixin, View):
    def connector(self, pk: int) -> Connector:
        connector = get_object_or_404(Connector.objects.select_related("evse__station"), pk=pk)
        self.configured_station(connector.evse.station_id)
        return connector

    def title(self, connector) -> str:
        return _("Port %(port)s, connector %(number)s") % {
            "port": connector.evse.evse_id,
            "number": connector.connector_id,
        }

    def get(self, request, pk: int):
        connector = self.connector(pk)
        form = ConnectorForm(instance=connector)
        return self.page(form, connector.evse.station, self.title(connector))

    def post(self, request, pk: int):
        connector = self.connector(pk)
        original = Connector.objects.get(pk=pk)
        form = ConnectorForm(request.POST, instance=connector)
        if form.is_valid() and self.saved(
            form, lambda **fields: services.connector_update(connector=original, **fields)
        ):
            _audit(request, "connector.update", original)
            return self.done(connector.evse.station, _("The connector was saved."))
        return self.page(form, connector.evse.station, self.title(connector), status=400)


class StationDetailView(PanelsMixin, ScopedDetailView):
    model = Station
    permission = "stations.view"
    template_name = "stations/station_detail.html"
    panel_page = panels.STATION

    def get_queryset(self):
        return super().get_queryset().select_related("site")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        station = self.object
        context.update(
            station_page(station=station, actor=self.request.actor),
            may={
                "sessions": self.may("sessions.view", station.site_id),
                "command": self.may("stations.command", station.site_id),
                "configure": self.may("stations.configure", station.site_id),
            },
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
        context = super().get_context_data(**kwargs)
        context["station"] = self.station
        context["directions"] = MessageLog.Direction.choices
        return context


class StationLiveFragmentView(ScopedDetailView):
    """The station page's live panels, re-rendered when the live feed says a session started
    or ended (the page asks for it; nothing polls)."""

    model = Station
    permission = "stations.view"
    template_name = "stations/_station_sessions.html"

    def get_queryset(self):
        return super().get_queryset().select_related("site")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        station = self.object
        context.update(
            station_sessions_now(station=station, actor=self.request.actor),
            may={
                "sessions": self.may("sessions.view", station.site_id),
                "command": self.may("stations.command", station.site_id),
            },
            now=timezone.now(),
        )
        return context


def live_labels() -> dict:
    """The words the live pages' scripts write, in the page's language."""
    return {
        "states": {state.value: str(state.label) for state in LiveState},
        "cleared": _("cleared"),
        "raised": _("raised"),
        "started": _("Session started"),
        "ended": _("Session ended"),
        "port": _("port"),
        "open": _("Open the station"),
        "commandFailed": _("The command could not be carried out. Try again."),
        "stationUrl": reverse("stations:station_detail", args=[0]),
        "sessionUrl": reverse("charging:session_detail", args=[0]),
    }


class SearchView(PermissionRequiredMixin, View):
    """The one search box: stations, sites, tokens, sessions and people by id, name or serial, each
    within the caller's scope (``selectors.portal_search``)."""

    permission = "stations.view"

    def get(self, request):
        query = request.GET.get("q", "")[:100]
        groups = portal_search(actor=request.actor, query=query)
        labels = {
            "stations": _("Stations"),
            "sites": _("Sites"),
            "tokens": _("Tokens"),
            "sessions": _("Sessions"),
            "people": _("People"),
        }
        for group in groups:
            group["label"] = labels[group["kind"]]
        return render(request, "stations/search.html", {"query": query, "groups": groups})
