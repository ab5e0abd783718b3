"""Portal pages of firmware updates, and the download endpoint stations fetch images from."""

from __future__ import annotations

from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import DetailView, ListView, View
from django_tenants.utils import schema_context

from apps.core.views import PermissionRequiredMixin
from apps.stations.models import Site

from . import links, selectors, services
from .forms import CampaignForm, FirmwareImageForm
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
        context["may_manage"] = self.request.actor.scope_for("firmware.manage").all_sites
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


class FirmwareImageUploadView(TenantWideMixin, View):
    """Upload an image to the catalogue (size, checksum and signature checked)."""

    permission = "firmware.manage"

    def _render(self, request, form, status=200):
        return render(request, "firmware/image_form.html", {"form": form}, status=status)

    def get(self, request):
        return self._render(request, FirmwareImageForm())

    def post(self, request):
        form = FirmwareImageForm(request.POST, request.FILES)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                image = services.firmware_image_upload(upload=data.pop("file"), **data)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, _("%(image)s uploaded.") % {"image": image})
                return HttpResponseRedirect(reverse("firmware:campaign_list"))
        return self._render(request, form, status=400)


class CampaignCreateView(TenantWideMixin, View):
    """A campaign from a filter (model, current versions, sites), its waves, limits and
    maintenance window; started at once or left as a draft."""

    permission = "firmware.manage"

    def _form(self, request, data=None):
        initial = {}
        if "image" in request.GET:
            initial["image"] = request.GET["image"]
        return CampaignForm(
            data,
            initial=initial,
            images=FirmwareImage.objects.restrict(request.actor, self.permission),
            sites=Site.objects.restrict(request.actor, "stations.configure").order_by("name"),
        )

    def _render(self, request, form, status=200):
        return render(request, "firmware/campaign_form.html", {"form": form}, status=status)

    def get(self, request):
        return self._render(request, self._form(request))

    def post(self, request):
        form = self._form(request, request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            image, start = data.pop("image"), data.pop("start")
            target_filter = {
                "model": data.pop("model") or image.model,
                "versions": data.pop("versions"),
                "sites": [site.pk for site in data.pop("sites")],
                "tags": data.pop("tags"),
            }
            stations = selectors.stations_for_campaign(
                actor=request.actor,
                image=image,
                versions=target_filter["versions"],
                site_ids=target_filter["sites"],
                model=target_filter["model"],
                tags=target_filter["tags"],
            )
            try:
                campaign = services.campaign_create(
                    image=image,
                    stations=stations,
                    target_filter=target_filter,
                    created_by=getattr(request.user, "email", ""),
                    **data,
                )
                if start:
                    campaign = services.campaign_start(campaign=campaign)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                count = campaign.targets.count()
                messages.success(
                    request,
                    _("Campaign created over %(count)s stations.") % {"count": count},
                )
                return HttpResponseRedirect(reverse("firmware:campaign_detail", args=[campaign.pk]))
        return self._render(request, form, status=400)


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)
