"""Who is connecting: identity → tenant and station, checked before the upgrade is accepted."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from .runtime import run_in_tenant


@dataclass
class StationAccess:
    refusal: int | None = None  # HTTP status to refuse the handshake with
    tenant: Any = None
    station_id: int | None = None
    lax: bool = False
    registration_status: str = "Accepted"


def basic_password(authorization: str | None, identity: str) -> str | None:
    """The password of an HTTP Basic header whose user is the station's identity."""
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, separator, password = decoded.partition(":")
    if not separator or user != identity:
        return None
    return password


def _resolve(identity: str, authorization: str | None, host: str | None) -> StationAccess:
    from apps.stations.models import Station
    from apps.tenants.models import Domain, StationIdentity

    connection.set_schema_to_public()
    if not identity or len(identity) > 48:
        return StationAccess(refusal=404)
    password = basic_password(authorization, identity)
    entry = StationIdentity.objects.select_related("tenant").filter(identity=identity).first()
    if entry is None:
        hostname = (host or "").split(":")[0].lower()
        domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
        tenant = domain.tenant if domain else None
        if tenant is None or not tenant.accept_unknown_stations or tenant.schema_name == "public":
            return StationAccess(refusal=404)
        if not password:
            return StationAccess(refusal=401)
        return _register_pending(tenant, identity, password)
    if not entry.check_password(password):
        return StationAccess(refusal=401)
    tenant = entry.tenant
    connection.set_tenant(tenant)
    station = (
        Station.objects.filter(identity=identity)
        .values("pk", "lax_validation", "registration_status")
        .first()
    )
    if station is None:
        return StationAccess(refusal=404)
    return StationAccess(
        tenant=tenant,
        station_id=station["pk"],
        lax=station["lax_validation"],
        registration_status=station["registration_status"],
    )


def _register_pending(tenant, identity: str, password: str) -> StationAccess:
    """Trust on first use: the station is kept Pending until an admin accepts it."""
    from apps.stations.services import station_register

    connection.set_tenant(tenant)
    with transaction.atomic():
        station = station_register(
            identity=identity, password=password, registration_status="Pending"
        )
    return StationAccess(tenant=tenant, station_id=station.pk, registration_status="Pending")


async def resolve_station(
    *, identity: str, authorization: str | None, host: str | None
) -> StationAccess:
    return await run_in_tenant(
        None, _resolve, identity=identity, authorization=authorization, host=host
    )
