"""Portal: the tenant's Plug & Charge CA, the certificates it signed for stations (with
expiry), the eMobility roots it trusts (upload, remove), the certificates installed on each
station (install, delete, ask the station) and the provider / OCSP settings."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.generic import View

from apps.core.views import PermissionRequiredMixin
from apps.ocpp import commands, payloads
from apps.stations.models import Station

from . import selectors, services
from .forms import InstallCertificateForm, PncSettingsForm, StationPickForm, TrustedRootForm
from .models import InstalledCertificate, TrustedRoot


def _tenant_wide(request, permission: str) -> bool:
    return request.actor.scope_for(permission).all_sites


class OverviewView(PermissionRequiredMixin, View):
    permission = "pnc.view"

    def get(self, request, form=None):
        wide = _tenant_wide(request, "pnc.view")
        return render(
            request,
            "pnc/overview.html",
            {
                "authority": selectors.authority_for(request.actor) if wide else None,
                "certificates": selectors.station_certificates_for(request.actor)[:500],
                "roots": selectors.trusted_roots_for(request.actor) if wide else [],
                "may_manage": _tenant_wide(request, "pnc.manage"),
                "form": form or TrustedRootForm(),
                "pick": StationPickForm(),
                "settings": services.pnc_settings() if wide else None,
            },
        )


class RootCreateView(PermissionRequiredMixin, View):
    permission = "pnc.manage"

    def post(self, request):
        if not _tenant_wide(request, self.permission):
            return redirect("pnc:overview")
        form = TrustedRootForm(request.POST)
        if form.is_valid():
            try:
                services.trusted_root_add(**form.cleaned_data)
            except ValueError as error:
                form.add_error("certificate_pem", str(error))
            else:
                messages.success(request, _("The root is trusted."))
                return redirect("pnc:overview")
        return _again(request, form)


def _again(request, form):
    view = OverviewView()
    view.request = request
    return view.get(request, form=form)


class RootDeleteView(PermissionRequiredMixin, View):
    permission = "pnc.manage"

    def post(self, request, pk):
        if _tenant_wide(request, self.permission):
            root = get_object_or_404(
                TrustedRoot.objects.restrict(request.actor, self.permission), pk=pk
            )
            services.trusted_root_delete(root=root)
            messages.success(request, _("The root is no longer trusted."))
        return redirect("pnc:overview")


# --- Certificates installed on a station (InstallCertificate, DeleteCertificate,
# GetInstalledCertificateIds) -------------------------------------------------------------------


def _station(request, pk: int, permission: str) -> Station:
    return get_object_or_404(Station.objects.restrict(request.actor, permission), pk=pk)


def _requester(request) -> commands.Requester:
    return commands.Requester(
        actor=request.actor, source="portal", ip=request.META.get("REMOTE_ADDR")
    )


def _report(request, reply) -> None:
    if reply.ok:
        messages.success(request, reply.message)
    else:
        messages.error(request, reply.message)


class StationFindView(PermissionRequiredMixin, View):
    permission = "pnc.view"

    def get(self, request):
        form = StationPickForm(request.GET)
        if form.is_valid():
            station = (
                Station.objects.restrict(request.actor, self.permission)
                .filter(identity__iexact=form.cleaned_data["identity"].strip())
                .first()
            )
            if station is not None:
                return redirect("pnc:station_certificates", pk=station.pk)
        messages.error(request, _("No station of yours has that identity."))
        return redirect("pnc:overview")


class StationCertificatesView(PermissionRequiredMixin, View):
    permission = "pnc.view"

    def get(self, request, pk, form=None):
        station = _station(request, pk, self.permission)
        may_manage = request.actor.scope_for("pnc.manage").covers_site(station.site_id)
        return render(
            request,
            "pnc/station.html",
            {
                "station": station,
                "installed": selectors.installed_certificates_for(request.actor, station),
                "signed": selectors.station_certificates_for(request.actor).filter(station=station)[
                    :50
                ],
                "may_manage": may_manage,
                "form": form
                or InstallCertificateForm(version=station.ocpp_version or payloads.V201),
            },
        )


class StationInstallView(PermissionRequiredMixin, View):
    permission = "pnc.manage"

    def post(self, request, pk):
        station = _station(request, pk, self.permission)
        form = InstallCertificateForm(request.POST, version=station.ocpp_version or payloads.V201)
        if form.is_valid():
            try:
                reply = services.certificate_install(
                    requester=_requester(request), station=station, **form.cleaned_data
                )
            except ValueError as error:
                form.add_error("certificate_pem", str(error))
            except PermissionDenied as error:
                messages.error(request, str(error))
                return redirect("pnc:station_certificates", pk=station.pk)
            else:
                _report(request, reply)
                return redirect("pnc:station_certificates", pk=station.pk)
        view = StationCertificatesView()
        view.request = request
        return view.get(request, pk, form=form)


class StationRefreshView(PermissionRequiredMixin, View):
    permission = "pnc.manage"

    def post(self, request, pk):
        station = _station(request, pk, self.permission)
        try:
            _report(
                request, services.installed_refresh(requester=_requester(request), station=station)
            )
        except PermissionDenied as error:
            messages.error(request, str(error))
        return redirect("pnc:station_certificates", pk=station.pk)


class InstalledDeleteView(PermissionRequiredMixin, View):
    permission = "pnc.manage"

    def post(self, request, pk):
        installed = get_object_or_404(
            InstalledCertificate.objects.restrict(request.actor, self.permission).select_related(
                "station"
            ),
            pk=pk,
        )
        station_pk = installed.station_id
        try:
            _report(
                request,
                services.certificate_delete(requester=_requester(request), installed=installed),
            )
        except PermissionDenied as error:
            messages.error(request, str(error))
        return redirect("pnc:station_certificates", pk=station_pk)


# --- The contract-certificate provider and OCSP settings (tenant-wide) -------------------------


class SettingsEditView(PermissionRequiredMixin, View):
    permission = "pnc.manage"

    def _allowed(self, request) -> bool:
        return _tenant_wide(request, self.permission)

    def get(self, request, form=None):
        if not self._allowed(request):
            raise PermissionDenied
        form = form or PncSettingsForm(instance=services.pnc_settings())
        return render(request, "pnc/settings.html", {"form": form})

    def post(self, request):
        if not self._allowed(request):
            raise PermissionDenied
        form = PncSettingsForm(request.POST, instance=services.pnc_settings())
        if form.is_valid():
            try:
                services.pnc_settings_update(
                    **{name: form.cleaned_data[name] for name in services.SETTINGS_FIELDS}
                )
            except ValueError as error:
                form.add_error("pool_ca_pem", str(error))
            else:
                messages.success(request, _("Plug & Charge settings saved."))
                return redirect("pnc:overview")
        return self.get(request, form=form)
