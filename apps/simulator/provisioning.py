"""Simulated stations and demo cards in a tenant, so that reruns find what they made.

Passwords are derived from SECRET_KEY, the tenant and the identity: the registry keeps only a
hash, and a rerun (or a --no-register load test) can still present the right password.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django_tenants.utils import tenant_context

from apps.charging.models import IdToken
from apps.charging.services import token_create
from apps.stations.models import Site, Station
from apps.stations.services import station_register, station_set_password
from apps.tenants.models import StationIdentity


@dataclass(frozen=True)
class StationSpec:
    identity: str
    password: str
    evse_count: int
    max_current_a: float
    phases: int


def station_password(tenant_slug: str, identity: str) -> str:
    message = f"chargegrid-simulator:{tenant_slug}:{identity}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:32]


def demo_token_uids(prefix: str, count: int = 8) -> list[str]:
    """RFID uids of the demo cards (OCPP 1.6 idTag: at most 20 characters)."""
    return [f"{prefix}TAG{n:02d}"[:20] for n in range(1, count + 1)]


def stations_ensure(
    *,
    tenant,
    identities: list[str],
    evse_count: int = 2,
    max_current_a: float = 32,
    phases: int = 3,
) -> list[StationSpec]:
    """Register the stations that are missing (spread over the tenant's sites) and make the
    registry hold each one's derived password.  A station that exists keeps its EVSEs; the
    simulator mirrors them.  An identity taken by another tenant is skipped."""
    specs = []
    with tenant_context(tenant):
        sites = list(Site.objects.order_by("pk"))
        for index, identity in enumerate(identities):
            password = station_password(tenant.slug, identity)
            registry = StationIdentity.objects.filter(identity=identity).first()
            if registry is not None and registry.tenant_id != tenant.pk:
                continue
            station = Station.objects.filter(identity=identity).first()
            if (station is None) != (registry is None):
                continue  # half-registered by someone else: leave it to an admin
            if station is None:
                station = station_register(
                    identity=identity,
                    password=password,
                    site=sites[index % len(sites)] if sites else None,
                    name=f"Simulated station {identity}",
                    evse_count=evse_count,
                    max_current_a=max_current_a,
                    phases=phases,
                )
            elif not registry.check_password(password):
                station_set_password(station=station, password=password)
            evses = list(station.evses.order_by("evse_id"))
            specs.append(
                StationSpec(
                    identity=identity,
                    password=password,
                    evse_count=len(evses) or evse_count,
                    max_current_a=float(evses[0].max_current_a) if evses else max_current_a,
                    phases=evses[0].phases if evses else phases,
                )
            )
    return specs


def demo_tokens_ensure(*, tenant, prefix: str, count: int = 8) -> list[str]:
    uids = demo_token_uids(prefix, count)
    with tenant_context(tenant):
        existing = set(
            IdToken.objects.filter(uid__in=uids, token_type="ISO14443").values_list(
                "uid", flat=True
            )
        )
        for number, uid in enumerate(uids, start=1):
            if uid not in existing:
                token_create(uid=uid, token_type="ISO14443", label=f"Simulator card {number}")
    return uids
