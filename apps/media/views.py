"""What screens fetch (the manifest of a delivery and the assets it lists, on the public host
with expiring signed links that name their tenant), and the portal pages of video content."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import DetailView, ListView, View
from django_tenants.utils import schema_context

from apps.core.views import PermissionRequiredMixin
from apps.stations.models import Site

from . import selectors, services
from .forms import (
    MediaAssetForm,
    MediaScheduleForm,
    PlaylistForm,
    PlaylistItemFormSet,
    ScreenModelForm,
    playlists_of,
)
from .models import MediaAsset, MediaDelivery, MediaSchedule, Playlist, ScreenModel


def media_manifest(request, token: str):
    try:
        claims = services.read_link(token)
    except signing.BadSignature:
        raise Http404 from None
    with schema_context(claims["s"]):
        delivery = (
            MediaDelivery.objects.select_related("schedule__playlist", "station__site")
            .filter(pk=claims.get("d"))
            .first()
        )
        if delivery is None:
            raise Http404
        body = json.dumps(
            services.manifest_for(
                schedule=delivery.schedule,
                station=delivery.station,
                base_url=request.build_absolute_uri("/").rstrip("/"),
            ),
            sort_keys=True,
        ).encode()
        services.manifest_served(delivery_id=delivery.pk, body=body)
    return HttpResponse(body, content_type="application/json")


def media_asset(request, token: str, name: str):
    try:
        claims = services.read_link(token)
    except signing.BadSignature:
        raise Http404 from None
    with schema_context(claims["s"]):
        asset = MediaAsset.objects.filter(pk=claims.get("a")).first()
        if asset is None:
            raise Http404
        response = FileResponse(asset.file.storage.open(asset.file.name, "rb"))
        response["X-Checksum-SHA256"] = asset.sha256
    return response


# --- Portal pages -----------------------------------------------------------------------------
class TenantWideMixin(PermissionRequiredMixin):
    """Media rows belong to no site: pages for people holding the permission on all sites."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.actor.scope_for(self.permission).all_sites:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def may_manage(self) -> bool:
        return self.request.actor.scope_for("media.manage").all_sites


class MediaScheduleListView(TenantWideMixin, ListView):
    permission = "media.view"
    template_name = "media/schedule_list.html"
    paginate_by = 50

    def get_queryset(self):
        return self.scoped(
            MediaSchedule.objects.select_related("playlist")
            .prefetch_related("sites")
            .order_by("-starts_on", "-pk")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        counts = selectors.delivery_counts(schedule_ids=[s.pk for s in context["object_list"]])
        context["rows"] = [(s, counts.get(s.pk, {})) for s in context["object_list"]]
        context["may_manage"] = self.may_manage()
        return context


class MediaScheduleDetailView(TenantWideMixin, DetailView):
    permission = "media.view"
    template_name = "media/schedule_detail.html"
    context_object_name = "schedule"

    def get_queryset(self):
        return self.scoped(MediaSchedule.objects.select_related("playlist"))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["deliveries"] = selectors.schedule_deliveries(
            schedule=self.object, actor=self.request.actor, permission=self.permission
        )
        context["counts"] = selectors.delivery_counts(schedule_ids=[self.object.pk])[self.object.pk]
        context["items"] = self.object.playlist.items.select_related("asset")
        context["may_manage"] = self.may_manage()
        return context


class MediaScheduleFormView(TenantWideMixin, View):
    """New schedule (sent at once) or a change to one (a new revision, sent again)."""

    permission = "media.manage"

    def _form(self, request, schedule, data=None):
        return MediaScheduleForm(
            data,
            instance=schedule,
            sites=Site.objects.restrict(request.actor, self.permission).order_by("name"),
            playlists=playlists_of(request.actor, self.permission),
        )

    def _schedule(self, request, pk):
        if pk is None:
            return None
        return get_object_or_404(self.scoped(MediaSchedule.objects.all()), pk=pk)

    def _render(self, request, form, schedule):
        return render(request, "media/schedule_form.html", {"form": form, "schedule": schedule})

    def get(self, request, pk=None):
        schedule = self._schedule(request, pk)
        return self._render(request, self._form(request, schedule), schedule)

    def post(self, request, pk=None):
        schedule = self._schedule(request, pk)
        form = self._form(request, schedule, request.POST)
        if form.is_valid():
            data = {name: form.cleaned_data[name] for name in form.Meta.fields}
            try:
                if schedule is None:
                    schedule = services.media_schedule_create(**data)
                    services.schedule_publish(schedule=schedule)
                else:
                    schedule.refresh_from_db()
                    schedule = services.media_schedule_update(schedule=schedule, **data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Schedule saved: it is being sent to the screens."))
                return HttpResponseRedirect(
                    reverse("media:mediaschedule_detail", args=[schedule.pk])
                )
        return self._render(request, form, schedule)


class MediaSchedulePublishView(TenantWideMixin, View):
    permission = "media.manage"

    def post(self, request, pk: int):
        schedule = get_object_or_404(self.scoped(MediaSchedule.objects.all()), pk=pk)
        services.schedule_publish(schedule=schedule)
        messages.success(request, _("Sending again to every screen that does not hold it."))
        return HttpResponseRedirect(reverse("media:mediaschedule_detail", args=[pk]))


class MediaAssetListView(TenantWideMixin, ListView):
    """The library (with the upload form) and the screens of station models."""

    permission = "media.view"
    template_name = "media/library.html"
    paginate_by = 60

    def get_queryset(self):
        return self.scoped(MediaAsset.objects.all())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_manage"] = self.may_manage()
        context["screens"] = self.scoped(ScreenModel.objects.order_by("vendor", "model"))
        context.setdefault("form", MediaAssetForm())
        context.setdefault("screen_form", ScreenModelForm())
        return context


class MediaAssetUploadView(TenantWideMixin, View):
    permission = "media.manage"

    def post(self, request):
        form = MediaAssetForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.media_asset_upload(
                    name=form.cleaned_data["name"],
                    upload=form.cleaned_data["file"],
                    thumbnail=form.cleaned_data["thumbnail"],
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, _("Uploaded."))
                return HttpResponseRedirect(reverse("media:mediaasset_list"))
        view = MediaAssetListView(request=request, kwargs={}, args=())
        view.object_list = view.get_queryset()
        return render(request, "media/library.html", view.get_context_data(form=form), status=400)


class ScreenModelSaveView(TenantWideMixin, View):
    permission = "media.manage"

    def post(self, request):
        form = ScreenModelForm(request.POST)
        if form.is_valid():
            try:
                services.screen_model_save(**form.cleaned_data)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, _("Screen saved."))
                return HttpResponseRedirect(reverse("media:mediaasset_list"))
        view = MediaAssetListView(request=request, kwargs={}, args=())
        view.object_list = view.get_queryset()
        return render(
            request, "media/library.html", view.get_context_data(screen_form=form), status=400
        )


class MediaAssetThumbnailView(TenantWideMixin, View):
    permission = "media.view"

    def get(self, request, pk: int):
        asset = get_object_or_404(self.scoped(MediaAsset.objects.all()), pk=pk)
        try:
            handle = asset.thumbnail.storage.open(asset.thumbnail.name, "rb")
        except FileNotFoundError:
            raise Http404 from None
        return FileResponse(handle)


class PlaylistListView(TenantWideMixin, ListView):
    permission = "media.view"
    template_name = "media/playlist_list.html"
    paginate_by = 50

    def get_queryset(self):
        return self.scoped(
            Playlist.objects.prefetch_related("items__asset").order_by("-created_at")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_manage"] = self.may_manage()
        return context


class PlaylistCreateView(TenantWideMixin, View):
    permission = "media.manage"

    def _render(self, request, form, items, status=200):
        context = {"form": form, "items": items}
        return render(request, "media/playlist_form.html", context, status=status)

    def _assets(self, request):
        return self.scoped(MediaAsset.objects.order_by("name"))

    def get(self, request):
        return self._render(
            request, PlaylistForm(), PlaylistItemFormSet(assets=self._assets(request))
        )

    def post(self, request):
        form = PlaylistForm(request.POST)
        items = PlaylistItemFormSet(request.POST, assets=self._assets(request))
        if form.is_valid() and items.is_valid():
            chosen = [
                (row["asset"], _seconds(row["asset"], row.get("seconds")))
                for row in items.cleaned_data
                if row and row.get("asset")
            ]
            try:
                services.playlist_create(name=form.cleaned_data["name"], items=chosen)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, _("Playlist saved."))
                return HttpResponseRedirect(reverse("media:playlist_list"))
        return self._render(request, form, items, status=400)


def _add_errors(form, error: ValidationError) -> None:
    """A service's errors on the form: on their field when the form has it, else on top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _seconds(asset: MediaAsset, seconds: int | None) -> int:
    if seconds is not None:
        return seconds
    return 10 if asset.kind == "image" else 0
