"""Real-time authorisation (OCPI 2.2.1 tokens module, ``POST {tokens}/{uid}/authorize``):
the CPO asks the driver's eMSP whether a token may charge at a location now.

Asked in the OCPP Authorize path, so with a short timeout: a partner that does not answer in
``ROAMING_AUTHORIZE_TIMEOUT`` seconds counts as unreachable (``None``) and the whitelist rule
decides.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from django.conf import settings

from apps.charging.choices import AuthorizationStatus
from apps.charging.services import AuthorizationDecision
from apps.stations.models import Station

from . import client, selectors, services
from .models import RemoteToken

logger = logging.getLogger(__name__)

# OCPI AllowedType -> OCPP authorization status
ALLOWED = {
    "ALLOWED": AuthorizationStatus.ACCEPTED,
    "BLOCKED": AuthorizationStatus.BLOCKED,
    "EXPIRED": AuthorizationStatus.EXPIRED,
    "NO_CREDIT": AuthorizationStatus.BLOCKED,
    "NOT_ALLOWED": AuthorizationStatus.INVALID,
}


def _ask(
    partner, uid: str, token_type: str, location: dict, party: tuple[str, str] | None = None
) -> AuthorizationDecision | None:
    """``party``: the token's (country code, party id), where a hub routes the question."""
    base = partner.endpoint("tokens", "SENDER")
    if base is None:
        return None
    url = f"{base}/{quote(uid, safe='')}/authorize?type={token_type}"
    try:
        answer = client.call(
            "POST",
            url,
            token=partner.outgoing_token,
            version=partner.version,
            body=location,
            route_to=services.route_for(partner, party),
            route_from=services.route_from(partner),
            timeout=float(getattr(settings, "ROAMING_AUTHORIZE_TIMEOUT", 3)),
        )
    except client.OcpiError as failure:
        logger.warning("Real-time authorisation at %s failed: %s", partner, failure)
        return None
    if answer.http_status == 404 or answer.status_code == 2004:
        return AuthorizationDecision(AuthorizationStatus.INVALID)
    if not answer.ok or not isinstance(answer.data, dict):
        return None
    status = ALLOWED.get(answer.data.get("allowed"), AuthorizationStatus.INVALID)
    group = (answer.data.get("token") or {}).get("group_id") or ""
    if status == AuthorizationStatus.ACCEPTED and answer.data.get("token"):
        services.token_store(
            partner=partner,
            data=answer.data["token"],
            country_code=answer.data["token"].get("country_code", partner.country_code),
            party_id=answer.data["token"].get("party_id", partner.party_id),
            uid=uid,
            token_type=token_type,
        )
    return AuthorizationDecision(status, group_id=group)


def realtime_authorize(
    *, uid: str, token: RemoteToken | None, station_id: int, evse_id: int | None
) -> AuthorizationDecision | None:
    """Ask the token's eMSP (or, for an unknown token, each partner that offers tokens)."""
    station = Station.objects.filter(pk=station_id).only("pk", "site_id").first()
    if station is None:
        return None
    location = {"location_id": selectors.location_id(station.site_id)}
    if evse_id:
        location["evse_uids"] = [selectors.evse_uid(station.pk, evse_id)]
    if token is not None:
        return _ask(
            token.partner, uid, token.token_type, location, (token.country_code, token.party_id)
        )
    for partner in selectors.connected_partners_offering("tokens"):
        answer = _ask(partner, uid, "RFID", location)
        if answer is not None and answer.status != AuthorizationStatus.INVALID:
            return answer
    return None
