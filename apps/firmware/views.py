"""Portal pages of firmware updates, and the download endpoint stations fetch images from."""

from __future__ import annotations

from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import DetailView, ListView, View
from django_tenants.utils import schema_context

from apps.core.views import PermissionRequiredMixin

from . import links, selectors, services
from .models import Campaign, FirmwareImage


def firmware_download(request, token: str, name: str):
    """GET an image with an expiring link (public host: the link names its tenant)."""
    try:
        claims = links.read_token(token)
    except signing.BadSignature:
        raise Http404 from None
    with schema_context(claims["s"]):
        image = FirmwareImage.objects.filter(pk=claims["i"]).first()
        if image is None:
            raise Http404
        try:
            handle = image.file.storage.open(image.file.name, "rb")
        except FileNotFoundError:
            raise Http404 from None
        response = FileResponse(handle, content_type="application/octet-stream")
        response["Content-Length"] = str(image.size)
        response["X-Checksum-SHA256"] = image.sha256
        response["Content-Disposition"] = f'attachment; filename="fw-{image.version}.bin"'
    return response


class TenantWideMixin(PermissionRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.actor.scope_for(self.permission).all_sites:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class CampaignListView(TenantWideMixin, ListView):
    permission = "firmware.view"
    template_name = "firmware/campaign_list.html"
    paginate_by = 50

    def get_queryset(self):
        return self.scoped(Campaign.objects.select_related("image"))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["reports"] = {
            c.pk: selectors.campaign_report(campaign=c) for c in context["object_list"]
        }
        context["images"] = self.scoped_images()
        return context

    def scoped_images(self):
        return FirmwareImage.objects.restrict(self.request.actor, self.permission)[:50]


class CampaignDetailView(TenantWideMixin, DetailView):
    permission = "firmware.view"
    template_name = "firmware/campaign_detail.html"
    context_object_name = "campaign"

    def get_queryset(self):
        return self.scoped(Campaign.objects.select_related("image"))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["report"] = selectors.campaign_report(campaign=self.object)
        context["targets"] = selectors.campaign_targets(campaign=self.object)[:500]
        context["may_manage"] = self.request.actor.scope_for("firmware.manage").all_sites
        return context


class CampaignActionView(TenantWideMixin, View):
    permission = "firmware.manage"
    ACTIONS = {
        "start": services.campaign_start,
        "pause": services.campaign_pause,
        "resume": services.campaign_resume,
        "cancel": services.campaign_cancel,
    }

    def post(self, request, pk: int, action: str):
        campaign = get_object_or_404(self.scoped(Campaign.objects.all()), pk=pk)
        if action not in self.ACTIONS:
            raise Http404
        try:
            self.ACTIONS[action](campaign=campaign)
        except ValidationError as error:
            messages.error(request, "; ".join(error.messages))
        else:
            messages.success(request, _("Done."))
        return HttpResponseRedirect(reverse("firmware:campaign_detail", args=[pk]))
