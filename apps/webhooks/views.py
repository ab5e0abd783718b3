"""Portal pages of webhooks: the subscriptions (list, create, edit, delete, test ping, new
secret) and the delivery log (filter, read, redeliver).  Webhooks are the whole tenant's:
only who holds the permission on every site sees or changes them, as in the API.  Every write
calls the service the API calls."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from apps.core.views import PermissionRequiredMixin, ScopedDetailView, ScopedListView

from . import services
from .filtersets import WebhookDeliveryFilterSet, WebhookFilterSet
from .forms import WebhookForm
from .models import Webhook, WebhookDelivery


def _audit(request, action: str, obj, **fields) -> None:
    from apps.audit.services import audit_record_for_request

    audit_record_for_request(request, action=action, obj=obj, **fields)


class TenantWideMixin(PermissionRequiredMixin):
    """The permission on every site, else 403."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.actor.scope_for(self.permission).all_sites:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class WebhookListView(TenantWideMixin, ScopedListView):
    model = Webhook
    permission = "webhooks.view"
    filterset_class = WebhookFilterSet
    filter_fields = ("event", "is_active")
    filter_labels = {"event": gettext_lazy("Event"), "is_active": gettext_lazy("Active")}
    template_name = "webhooks/webhook_list.html"

    def get_queryset(self):
        return super().get_queryset().prefetch_related("sites")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_manage"] = self.request.actor.scope_for("webhooks.manage").all_sites
        return context


class WebhookDetailView(TenantWideMixin, ScopedDetailView):
    model = Webhook
    permission = "webhooks.view"
    template_name = "webhooks/webhook_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["deliveries"] = self.object.deliveries.order_by("-created_at", "-id")[:20]
        context["may_manage"] = self.request.actor.scope_for("webhooks.manage").all_sites
        return context


class WebhookManageMixin(TenantWideMixin):
    permission = "webhooks.manage"
    template_name = "webhooks/webhook_form.html"

    def managed(self, pk: int) -> Webhook:
        return get_object_or_404(
            Webhook.objects.restrict(self.request.actor, self.permission), pk=pk
        )

    def form_page(self, form, webhook=None, status=200):
        return render(
            self.request, self.template_name, {"form": form, "webhook": webhook}, status=status
        )

    def saved(self, form, save):
        try:
            return save()
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
            return None

    def secret_page(self, webhook: Webhook, secret: str, created: bool):
        """The signing secret, shown this once and never cached."""
        response = render(
            self.request,
            "webhooks/webhook_secret.html",
            {"webhook": webhook, "secret": secret, "created": created},
            status=201 if created else 200,
        )
        response["Cache-Control"] = "no-store"
        return response


class WebhookCreateView(WebhookManageMixin, View):
    def get(self, request):
        return self.form_page(WebhookForm(actor=request.actor))

    def post(self, request):
        form = WebhookForm(request.POST, actor=request.actor)
        if form.is_valid():
            webhook = self.saved(
                form, lambda: services.webhook_create(created_by=request.user, **form.cleaned_data)
            )
            if webhook is not None:
                _audit(request, "webhook.create", webhook)
                return self.secret_page(webhook, webhook.secret, created=True)
        return self.form_page(form, status=400)


class WebhookEditView(WebhookManageMixin, View):
    def get(self, request, pk: int):
        webhook = self.managed(pk)
        form = WebhookForm(initial=WebhookForm.initial_of(webhook), actor=request.actor)
        return self.form_page(form, webhook)

    def post(self, request, pk: int):
        webhook = self.managed(pk)
        form = WebhookForm(request.POST, actor=request.actor)
        if form.is_valid():
            saved = self.saved(
                form, lambda: services.webhook_update(webhook=webhook, **form.cleaned_data)
            )
            if saved is not None:
                _audit(request, "webhook.update", saved)
                messages.success(request, _("The webhook was saved."))
                return HttpResponseRedirect(reverse("webhooks:webhook_detail", args=[pk]))
        return self.form_page(form, Webhook.objects.get(pk=pk), status=400)


class WebhookDeleteView(WebhookManageMixin, View):
    def post(self, request, pk: int):
        webhook = self.managed(pk)
        label = str(webhook)
        services.webhook_delete(webhook=webhook)
        _audit(
            request,
            "webhook.delete",
            None,
            object_type=Webhook._meta.label_lower,
            object_id=pk,
            object_repr=label,
        )
        messages.success(request, _("The webhook was deleted."))
        return HttpResponseRedirect(reverse("webhooks:webhook_list"))


class WebhookPingView(WebhookManageMixin, View):
    """POST: a test ``ping`` delivery now; it shows in the delivery log."""

    def post(self, request, pk: int):
        webhook = self.managed(pk)
        services.webhook_ping(webhook=webhook)
        _audit(request, "webhook.ping", webhook)
        messages.success(request, _("A test delivery is on its way."))
        return HttpResponseRedirect(reverse("webhooks:webhook_detail", args=[pk]))


class WebhookRotateSecretView(WebhookManageMixin, View):
    """POST: a new signing secret, shown once; the old one stops signing at once."""

    def post(self, request, pk: int):
        webhook = self.managed(pk)
        secret = services.webhook_rotate_secret(webhook=webhook)
        _audit(request, "webhook.rotate_secret", webhook)
        return self.secret_page(webhook, secret, created=False)


class DeliveryListView(TenantWideMixin, ScopedListView):
    model = WebhookDelivery
    permission = "webhooks.view"
    filterset_class = WebhookDeliveryFilterSet
    filter_fields = ("webhook_id", "status", "event", "created_after", "created_before")
    filter_labels = {
        "webhook_id": gettext_lazy("Webhook (id)"),
        "status": gettext_lazy("Status"),
        "event": gettext_lazy("Event"),
        "created_after": gettext_lazy("From"),
        "created_before": gettext_lazy("To"),
    }
    template_name = "webhooks/delivery_list.html"

    def get_queryset(self):
        return super().get_queryset().select_related("webhook")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_manage"] = self.request.actor.scope_for("webhooks.manage").all_sites
        return context


class DeliveryDetailView(TenantWideMixin, ScopedDetailView):
    model = WebhookDelivery
    permission = "webhooks.view"
    template_name = "webhooks/delivery_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("webhook")

    def get_context_data(self, **kwargs):
        import json

        context = super().get_context_data(**kwargs)
        context["payload"] = json.dumps(self.object.payload, indent=2, default=str)
        context["may_manage"] = self.request.actor.scope_for("webhooks.manage").all_sites
        return context


class DeliveryRedeliverView(TenantWideMixin, View):
    """POST: send a delivery's payload again, as a new delivery (``webhook_redeliver``)."""

    permission = "webhooks.manage"

    def post(self, request, pk: int):
        original = get_object_or_404(
            WebhookDelivery.objects.restrict(request.actor, self.permission), pk=pk
        )
        delivery = services.webhook_redeliver(delivery=original)
        _audit(
            request,
            "webhookdelivery.redeliver",
            original,
            object_repr=f"{original.event} {original.uuid}",
        )
        messages.success(request, _("Sent again as a new delivery."))
        return HttpResponseRedirect(reverse("webhooks:delivery_detail", args=[delivery.pk]))
