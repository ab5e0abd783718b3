"""Portal pages of fleets: fleets, vehicles (with usage and telemetry), cards, usage with its
fuel-card export, imports; and the telematics webhook receiver.  Thin: forms in, services to
write, selectors to read."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.generic import View

from apps.core.views import PermissionRequiredMixin, ScopedDetailView, ScopedListView
from apps.stations.models import Site

from . import exports, imports, selectors, services
from .filtersets import FleetCardFilterSet, VehicleFilterSet, VehicleSessionFilterSet
from .forms import CardForm, FleetForm, ImportForm, PeriodForm, VehicleForm
from .models import Fleet, FleetCard, Vehicle, VehicleSession


class FleetScoped:
    """Restricted by site (the base view), then to the fleets a manager manages."""

    def scoped(self, queryset):
        return selectors.scope_queryset(super().scoped(queryset), self.request.actor)

    def may_manage(self, fleet: Fleet | None = None) -> bool:
        fleets = selectors.fleets_for(self.request.actor, "fleet.manage")
        return fleets.filter(pk=fleet.pk).exists() if fleet else fleets.exists()


def _errors(request, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


def _form_errors(request, form) -> None:
    messages.error(
        request,
        " ".join(
            f"{form.fields[name].label if name in form.fields else ''}: {' '.join(errs)}"
            for name, errs in form.errors.items()
        ),
    )


# --- Fleets -----------------------------------------------------------------------------------
class FleetListView(FleetScoped, ScopedListView):
    model = Fleet
    permission = "fleet.view"
    template_name = "fleet/fleet_list.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("site")
            .annotate(vehicle_count=Count("vehicles", distinct=True))
            .annotate(card_count=Count("cards", distinct=True))
            .order_by("name")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        actor = self.request.actor
        context["may_create"] = not actor.scope_for("fleet.manage").empty and (
            selectors.sees_all_fleets(actor)
        )
        context["form"] = FleetForm(actor=actor)
        return context


class FleetCreateView(PermissionRequiredMixin, View):
    permission = "fleet.manage"

    def post(self, request):
        if not selectors.sees_all_fleets(request.actor):
            raise PermissionDenied
        form = FleetForm(request.POST, actor=request.actor)
        if not form.is_valid():
            _form_errors(request, form)
            return HttpResponseRedirect(reverse("fleet:fleet_list"))
        try:
            fleet = services.fleet_create(**form.cleaned_data)
        except ValidationError as error:
            _errors(request, error)
            return HttpResponseRedirect(reverse("fleet:fleet_list"))
        return HttpResponseRedirect(reverse("fleet:fleet_detail", args=[fleet.pk]))


class FleetDetailView(FleetScoped, ScopedDetailView):
    model = Fleet
    permission = "fleet.view"
    template_name = "fleet/fleet_detail.html"
    context_object_name = "fleet"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        fleet = self.object
        may_manage = self.may_manage(fleet)
        context["vehicles"] = fleet.vehicles.select_related("depot").order_by("plate", "vin")
        context["cards"] = fleet.cards.select_related("token", "vehicle", "driver").order_by(
            "token__uid"
        )
        context["managers"] = fleet.managers.order_by("email")
        context["may_manage"] = may_manage
        context["telematics_url"] = self.request.build_absolute_uri(
            reverse("fleet:telematics", args=[fleet.pk])
        )
        if may_manage:
            context["vehicle_form"] = VehicleForm(
                initial={"fleet": fleet.pk, "depot": fleet.site_id},
                fleets=Fleet.objects.filter(pk=fleet.pk),
                actor=self.request.actor,
            )
            context["card_form"] = CardForm(fleet=fleet)
            context["form"] = FleetForm(
                initial={
                    "name": fleet.name,
                    "description": fleet.description,
                    "site": fleet.site_id,
                    "managers": [m.pk for m in context["managers"]],
                },
                actor=self.request.actor,
            )
        return context


class FleetManageMixin(PermissionRequiredMixin):
    permission = "fleet.manage"

    def fleet(self, pk) -> Fleet:
        return get_object_or_404(selectors.fleets_for(self.request.actor, "fleet.manage"), pk=pk)


class FleetEditView(FleetManageMixin, View):
    def post(self, request, pk):
        fleet = self.fleet(pk)
        form = FleetForm(request.POST, actor=request.actor)
        if form.is_valid():
            try:
                services.fleet_update(fleet=fleet, **form.cleaned_data)
            except ValidationError as error:
                _errors(request, error)
            else:
                messages.success(request, _("Fleet saved."))
        else:
            _form_errors(request, form)
        return HttpResponseRedirect(reverse("fleet:fleet_detail", args=[pk]))


class FleetSecretView(FleetManageMixin, View):
    def post(self, request, pk):
        fleet = self.fleet(pk)
        secret = services.fleet_rotate_secret(fleet=fleet)
        messages.success(
            request,
            _("New telematics secret (shown once): %(secret)s") % {"secret": secret},
        )
        return HttpResponseRedirect(reverse("fleet:fleet_detail", args=[pk]))


class VehicleCreateView(FleetManageMixin, View):
    def post(self, request, pk):
        fleet = self.fleet(pk)
        form = VehicleForm(
            request.POST, fleets=Fleet.objects.filter(pk=fleet.pk), actor=request.actor
        )
        if not form.is_valid():
            _form_errors(request, form)
            return HttpResponseRedirect(reverse("fleet:fleet_detail", args=[pk]))
        try:
            vehicle = services.vehicle_create(**form.cleaned_data)
        except ValidationError as error:
            _errors(request, error)
            return HttpResponseRedirect(reverse("fleet:fleet_detail", args=[pk]))
        return HttpResponseRedirect(reverse("fleet:vehicle_detail", args=[vehicle.pk]))


class CardCreateView(FleetManageMixin, View):
    def post(self, request, pk):
        fleet = self.fleet(pk)
        form = CardForm(request.POST, fleet=fleet)
        if form.is_valid():
            try:
                services.card_create(fleet=fleet, **form.cleaned_data)
            except ValidationError as error:
                _errors(request, error)
            else:
                messages.success(request, _("Card linked."))
        else:
            _form_errors(request, form)
        return HttpResponseRedirect(reverse("fleet:fleet_detail", args=[pk]))


class CardDeleteView(FleetManageMixin, View):
    def post(self, request, pk):
        card = get_object_or_404(selectors.cards_for(request.actor, "fleet.manage"), pk=pk)
        fleet_id = card.fleet_id
        services.card_delete(card=card)
        messages.success(request, _("Card unlinked (the token stays)."))
        return HttpResponseRedirect(reverse("fleet:fleet_detail", args=[fleet_id]))


# --- Vehicles -----------------------------------------------------------------------------------
class VehicleListView(FleetScoped, ScopedListView):
    model = Vehicle
    permission = "fleet.view"
    template_name = "fleet/vehicle_list.html"
    filterset_class = VehicleFilterSet
    filter_fields = ("fleet", "q")

    def get_queryset(self):
        return super().get_queryset().select_related("fleet", "depot").order_by("fleet", "plate")


def _period(form: PeriodForm, zone: ZoneInfo) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The form's local dates as [start, end) moments in ``zone``."""
    if not form.is_valid():
        return None, None
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    return (
        start and dt.datetime.combine(start, dt.time(0), zone),
        end and dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), zone),
    )


class VehicleDetailView(FleetScoped, ScopedDetailView):
    model = Vehicle
    permission = "fleet.view"
    template_name = "fleet/vehicle_detail.html"
    context_object_name = "vehicle"

    def get_queryset(self):
        return super().get_queryset().select_related("fleet__site", "depot")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        vehicle = self.object
        zone = ZoneInfo(vehicle.fleet.site.timezone)
        period = PeriodForm(self.request.GET or None)
        start, end = _period(period, zone)
        rows = selectors.usage_rows(vehicle.sessions.all(), start=start, end=end)
        context["period"] = period if self.request.GET else PeriodForm()
        context["rows"] = rows[-200:]
        context["summary"] = selectors.usage_summary(rows)
        context["telemetry"] = vehicle.telemetry.all()[:20]
        context["cards"] = vehicle.cards.select_related("token")
        context["query"] = self.request.GET.urlencode()
        may_manage = self.may_manage(vehicle.fleet)
        context["may_manage"] = may_manage
        if may_manage:
            context["form"] = VehicleForm(
                initial={
                    "fleet": vehicle.fleet_id,
                    "make": vehicle.make,
                    "model": vehicle.model,
                    "battery_kwh": vehicle.battery_kwh,
                    "vin": vehicle.vin,
                    "plate": vehicle.plate,
                    "depot": vehicle.depot_id,
                    "is_active": vehicle.is_active,
                },
                fleets=selectors.fleets_for(self.request.actor, "fleet.manage"),
                actor=self.request.actor,
            )
        return context


class VehicleEditView(PermissionRequiredMixin, View):
    permission = "fleet.manage"

    def post(self, request, pk):
        vehicle = get_object_or_404(selectors.vehicles_for(request.actor, "fleet.manage"), pk=pk)
        form = VehicleForm(
            request.POST,
            fleets=selectors.fleets_for(request.actor, "fleet.manage"),
            actor=request.actor,
        )
        if form.is_valid():
            try:
                services.vehicle_update(vehicle=vehicle, **form.cleaned_data)
            except ValidationError as error:
                _errors(request, error)
            else:
                messages.success(request, _("Vehicle saved."))
        else:
            _form_errors(request, form)
        return HttpResponseRedirect(reverse("fleet:vehicle_detail", args=[pk]))


# --- Cards and usage ----------------------------------------------------------------------------
class CardListView(FleetScoped, ScopedListView):
    model = FleetCard
    permission = "fleet.view"
    template_name = "fleet/card_list.html"
    filterset_class = FleetCardFilterSet
    filter_fields = ("fleet", "kind", "uid")

    def get_queryset(self):
        return super().get_queryset().select_related("token", "fleet", "vehicle")


class UsageListView(FleetScoped, ScopedListView):
    model = VehicleSession
    permission = "fleet.view"
    template_name = "fleet/usage_list.html"
    filterset_class = VehicleSessionFilterSet
    filter_fields = ("fleet", "vehicle")

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("session__station", "vehicle", "fleet")
            .order_by("-started_at")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["query"] = self.request.GET.urlencode()
        return context


class TransactionsExportView(PermissionRequiredMixin, View):
    """The fuel-card transaction file of the filtered usage (``?vehicle=&fleet=&start=&end=``,
    ISO dates, local to each fleet's depot: here taken in UTC; ``file=csv|xlsx``)."""

    permission = "fleet.view"

    def get(self, request):
        file_format = "xlsx" if request.GET.get("file") == "xlsx" else "csv"
        filterset = VehicleSessionFilterSet(
            request.GET, queryset=selectors.usage_for(request.actor), request=request
        )
        if not filterset.is_valid():
            return HttpResponse(status=400)
        rows = selectors.usage_rows(filterset.qs)
        response = HttpResponse(
            exports.fuel_card_file(rows, file_format),
            content_type=exports.CONTENT_TYPES[file_format],
        )
        stamp = timezone.now().strftime("%Y%m%d")
        response["Content-Disposition"] = (
            f'attachment; filename="transactions-{stamp}.{file_format}"'
        )
        return response


class TableExportView(PermissionRequiredMixin, View):
    permission = "fleet.view"

    def get(self, request, what: str):
        file_format = "xlsx" if request.GET.get("file") == "xlsx" else "csv"
        if what == "vehicles":
            resource, queryset = exports.VehicleResource(), selectors.vehicles_for(request.actor)
        else:
            resource, queryset = exports.CardResource(), selectors.cards_for(request.actor)
        response = HttpResponse(
            exports.table(resource, queryset.order_by("pk"), file_format),
            content_type=exports.CONTENT_TYPES[file_format],
        )
        response["Content-Disposition"] = f'attachment; filename="{what}.{file_format}"'
        return response


class ImportView(PermissionRequiredMixin, View):
    permission = "fleet.manage"
    template_name = "fleet/import.html"

    def get(self, request):
        return render(request, self.template_name, {"form": ImportForm()})

    def post(self, request):
        form = ImportForm(request.POST, request.FILES)
        report = None
        if form.is_valid():
            upload = form.cleaned_data["file"]
            fleets = list(selectors.fleets_for(request.actor, "fleet.manage"))
            options = {
                "content": upload.read(),
                "filename": upload.name,
                "fleets": fleets,
                "keep_good": form.cleaned_data["keep_good"],
                "dry_run": form.cleaned_data["dry_run"],
            }
            try:
                if form.cleaned_data["what"] == "vehicles":
                    sites = list(Site.objects.restrict(request.actor, "fleet.view"))
                    report = imports.vehicles_import(sites=sites, **options)
                else:
                    report = imports.cards_import(**options)
            except imports.ImportFileError as error:
                form.add_error("file", str(error))
        return render(request, self.template_name, {"form": form, "report": report})


# --- Telematics webhook -------------------------------------------------------------------------
@csrf_exempt
@require_POST
def telematics_webhook(request, pk: int):
    """A telematics provider pushes readings, signed with the fleet's secret
    (``X-Fleet-Signature: sha256=<hex HMAC-SHA256 of the body>``).  No session, no CSRF: the
    signature is the authentication.  An unknown fleet and a bad signature both answer 403."""
    fleet = Fleet.objects.filter(pk=pk).first()
    signature = request.headers.get(services.SIGNATURE_HEADER, "")
    if fleet is None:
        return JsonResponse({"detail": "Bad signature."}, status=403)
    try:
        kept = services.telematics_webhook_receive(
            fleet=fleet, body=request.body, signature=signature
        )
    except services.BadSignature:
        return JsonResponse({"detail": "Bad signature."}, status=403)
    except ValidationError as error:
        detail = error.message_dict if hasattr(error, "error_dict") else error.messages
        return JsonResponse(json.loads(json.dumps(detail)), status=400, safe=False)
    return JsonResponse({"kept": kept})
