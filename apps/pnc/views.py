"""Portal: the tenant's Plug & Charge CA, the certificates it signed for stations (with
expiry) and the eMobility roots it trusts (upload, remove)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.generic import View

from apps.core.views import PermissionRequiredMixin

from . import selectors, services
from .forms import TrustedRootForm
from .models import TrustedRoot


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
