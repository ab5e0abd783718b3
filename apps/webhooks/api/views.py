from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.viewsets import ReadOnlyScopedViewSet, ScopedModelViewSet

from .. import services
from ..filtersets import WebhookDeliveryFilterSet, WebhookFilterSet
from ..models import Webhook, WebhookDelivery
from .serializers import (
    WebhookCreatedSerializer,
    WebhookDeliverySerializer,
    WebhookInputSerializer,
    WebhookSecretSerializer,
    WebhookSerializer,
)


class WebhookViewSet(ScopedModelViewSet):
    """Webhook subscriptions: signed HTTP POSTs of the chosen events, retried with back-off."""

    queryset = Webhook.objects.prefetch_related("sites")
    serializer_class = WebhookSerializer
    input_serializer_class = WebhookInputSerializer
    filterset_class = WebhookFilterSet
    view_permission = "webhooks.view"
    manage_permission = "webhooks.manage"
    action_permissions = {"ping": "webhooks.manage", "rotate_secret": "webhooks.manage"}

    @extend_schema(responses={201: WebhookCreatedSerializer})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def create_service(self, data):
        return services.webhook_create(created_by=self.request.user, **data)

    def update_service(self, instance, data):
        return services.webhook_update(webhook=instance, **data)

    def delete_service(self, instance):
        services.webhook_delete(webhook=instance)

    def get_serializer(self, *args, **kwargs):
        # The secret is shown once: in the answer to its creation.
        if self.action == "create" and self.request.method == "POST":
            return WebhookCreatedSerializer(*args, context=self.get_serializer_context(), **kwargs)
        return super().get_serializer(*args, **kwargs)

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def ping(self, request, pk=None):
        """Send a test ``ping`` delivery now; follow it in the delivery log."""
        webhook = self.get_object()
        delivery = services.webhook_ping(webhook=webhook)
        self.audit("ping", webhook)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=WebhookSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """Replace the signing secret (the new one is shown only in this answer)."""
        webhook = self.get_object()
        secret = services.webhook_rotate_secret(webhook=webhook)
        self.audit("rotate_secret", webhook)
        return Response({"secret": secret})


class WebhookDeliveryViewSet(ReadOnlyScopedViewSet):
    """The delivery log: every event sent to every webhook, with each attempt's outcome."""

    queryset = WebhookDelivery.objects.all()
    serializer_class = WebhookDeliverySerializer
    filterset_class = WebhookDeliveryFilterSet
    view_permission = "webhooks.view"
    action_permissions = {"redeliver": "webhooks.manage"}

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        """Send this delivery's payload again, as a new delivery."""
        original = self.get_object()
        delivery = services.webhook_redeliver(delivery=original)
        self.audit("redeliver", original, object_repr=f"{original.event} {original.uuid}")
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
