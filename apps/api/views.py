"""API-wide views: who am I, the OpenAPI schema and its Swagger UI, and JSON 404s."""

from __future__ import annotations

from django.http import JsonResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import serializers
from rest_framework.response import Response

from apps.core.permissions import PERMISSIONS

from .viewsets import ApiView, ApiViewMixin


class MeView(ApiView):
    """The caller (person or API key) and, per permission, where they hold it."""

    permission = None

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "kind": serializers.CharField(),
                "label": serializers.CharField(),
                "permissions": serializers.DictField(
                    child=serializers.JSONField(),
                    help_text='{"stations.view": "all" | [site ids]} (held permissions only)',
                ),
            },
        )
    )
    def get(self, request):
        held = {}
        for code in sorted(PERMISSIONS):
            scope = self.actor.scope_for(code)
            if scope.all_sites:
                held[code] = "all"
            elif scope.site_ids:
                held[code] = sorted(scope.site_ids)
        return Response({"kind": self.actor.kind, "label": self.actor.label, "permissions": held})


class SchemaView(ApiViewMixin, SpectacularAPIView):
    """The OpenAPI 3 schema of this API (YAML, or JSON with ``?format=json``)."""

    permission = None


class DocsView(ApiViewMixin, SpectacularSwaggerSplitView):
    """Swagger UI over the schema.  Its start-up script is served from this same address
    (``?script``) rather than inline, as the Content-Security-Policy asks."""

    permission = None
    template_name = "api/swagger_ui.html"


def not_found(request, *args, **kwargs):
    return JsonResponse(
        {"error": {"code": "not_found", "message": "No such API endpoint.", "details": None}},
        status=404,
    )
