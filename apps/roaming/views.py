"""Portal pages: roaming partners (list, the add wizard, one partner's state, tokens,
sessions and CDRs sent, commands received and errors)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View

from apps.core.views import PermissionRequiredMixin, ScopedDetailView, ScopedListView

from . import client, services
from .choices import PushStatus
from .filtersets import PartnerFilterSet
from .forms import PartnerAddForm
from .models import Partner

PARTNER_ERRORS = (services.HandshakeError, services.PullError, client.OcpiError)


class PartnerListView(ScopedListView):
    model = Partner
    permission = "roaming.view"
    template_name = "roaming/partner_list.html"
    filterset_class = PartnerFilterSet
    filter_fields = ("status",)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["our_versions_url"] = services.versions_url()
        context["may_manage"] = self.may("roaming.manage", None)
        return context


class PartnerDetailView(ScopedDetailView):
    model = Partner
    permission = "roaming.view"
    template_name = "roaming/partner_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        partner = self.object
        pushes = partner.pushes.all()
        context.update(
            tokens=partner.tokens.all()[:50],
            token_count=partner.tokens.count(),
            exchanged=pushes.filter(module__in=["sessions", "cdrs"])[:50],
            errors=pushes.filter(status__in=[PushStatus.RETRYING, PushStatus.FAILED])[:50],
            commands=partner.commands.all()[:50],
            may_manage=self.may("roaming.manage", None),
            can_pull=partner.endpoint("tokens", "SENDER") is not None,
        )
        return context


class PartnerAddView(PermissionRequiredMixin, View):
    permission = "roaming.manage"

    def get(self, request):
        return self._render(request, PartnerAddForm())

    def post(self, request):
        if not self.may(self.permission, None):
            return self._render(request, PartnerAddForm(), status=403)
        form = PartnerAddForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        data = form.cleaned_data
        if data["how"] == PartnerAddForm.INVITE:
            partner = services.partner_invite(name=data["name"])
            return self._render(request, None, invited=partner)
        try:
            partner = services.partner_register(
                name=data["name"], versions_url=data["versions_url"], token=data["token"]
            )
        except PARTNER_ERRORS as failure:
            form.add_error(
                None, _("The partner could not be registered: %(error)s") % {"error": failure}
            )
            return self._render(request, form, status=400)
        messages.success(request, _("Connected to %(name)s.") % {"name": partner.name})
        return redirect("roaming:partner_detail", pk=partner.pk)

    def _render(self, request, form, status=200, invited=None):
        context = {"form": form, "invited": invited, "our_versions_url": services.versions_url()}
        return render(request, "roaming/partner_add.html", context, status=status)


class PartnerActionView(PermissionRequiredMixin, View):
    """Rotate our token, unregister or pull their tokens now (POST ``action``)."""

    permission = "roaming.manage"

    def post(self, request, pk: int):
        partner = get_object_or_404(Partner.objects.restrict(request.actor, self.permission), pk=pk)
        action = request.POST.get("action")
        try:
            if action == "rotate":
                services.partner_rotate(partner=partner)
                messages.success(request, _("A new token was sent to the partner."))
            elif action == "pull":
                count = services.tokens_pull(partner=partner)
                messages.success(
                    request, _("%(count)s token(s) received from the partner.") % {"count": count}
                )
            elif action == "unregister":
                services.partner_unregister(partner=partner)
                messages.success(request, _("The partner was unregistered."))
        except PARTNER_ERRORS as failure:
            messages.error(
                request, _("The partner could not be reached: %(error)s") % {"error": failure}
            )
        return redirect("roaming:partner_detail", pk=partner.pk)
