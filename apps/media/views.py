"""What screens fetch: the manifest of a delivery and the assets it lists, on the public host
with expiring signed links that name their tenant."""

from __future__ import annotations

import json

from django.core import signing
from django.http import FileResponse, Http404, HttpResponse
from django_tenants.utils import schema_context

from . import services
from .models import MediaAsset, MediaDelivery


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
