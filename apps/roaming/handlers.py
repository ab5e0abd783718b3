"""The core's events and questions, answered for roaming partners (registered in ``apps.py``).

- EVSE status changes become PATCHes of the EVSE to every partner that receives locations.
  The push rows are written *inside* the transaction that changed the status (a transactional
  outbox): they commit or roll back with it and are queued for sending after the commit.
- Authorisation: a partner's token is accepted by its whitelist rule, or asked of its eMSP in
  real time (``authorize``); a partner that cannot be reached never blocks a token whose rule
  allows charging without it.
"""

from __future__ import annotations

import logging

from apps.charging.choices import AuthorizationStatus
from apps.charging.models import IdToken
from apps.charging.services import AuthorizationDecision
from apps.stations.models import Evse, Station

from . import selectors, services
from .authorization import realtime_authorize
from .choices import Whitelist
from .models import RemoteToken

logger = logging.getLogger(__name__)


def _push_evse(partners, station: Station, evse: Evse) -> None:
    party = services.profile_get()
    body = selectors.evse_status_data(evse, station)
    path = (
        f"/{party.country_code}/{party.party_id}/{selectors.location_id(station.site_id)}/"
        f"{selectors.evse_uid(station.pk, evse.evse_id)}"
    )
    services.push_enqueue(
        partners=partners,
        module="locations",
        method="PATCH",
        path=path,
        body=body,
        coalesce=True,  # the EVSE's whole status: a newer one replaces it unsent
    )


def on_status_changed(*, event, station_id, evse_id=None, **_) -> None:
    if evse_id is None:
        return
    partners = selectors.connected_partners("locations")
    if not partners:
        return
    evse = (
        Evse.objects.select_related("station")
        .filter(station_id=station_id, evse_id=evse_id)
        .first()
    )
    if evse is not None:
        _push_evse(partners, evse.station, evse)


def on_station_link(*, event, station_id, **_) -> None:
    """Online / offline changes what partners see (UNKNOWN while the station is offline)."""
    partners = selectors.connected_partners("locations")
    if not partners:
        return
    station = Station.objects.filter(pk=station_id).first()
    if station is None:
        return
    for evse in station.evses.all():
        _push_evse(partners, station, evse)


def authorization(*, uid: str, token_type: str = "", station_id: int, evse_id=None, **_):
    """Abstains for our own drivers' tokens; decides for partners' tokens."""
    if not uid:
        return None
    token = RemoteToken.objects.select_related("partner").filter(uid=uid).first()
    if token is None:
        if IdToken.objects.filter(uid=uid).exists():
            return None
        answer = realtime_authorize(uid=uid, token=None, station_id=station_id, evse_id=evse_id)
        return answer  # None when no partner knows it: the token table decides (Invalid)
    local = AuthorizationDecision(
        AuthorizationStatus.ACCEPTED if token.valid else AuthorizationStatus.BLOCKED,
        group_id=token.group_id,
    )
    if token.whitelist in (Whitelist.ALWAYS, Whitelist.ALLOWED):
        return local
    answer = realtime_authorize(uid=uid, token=token, station_id=station_id, evse_id=evse_id)
    if answer is not None:
        return answer
    if token.whitelist == Whitelist.ALLOWED_OFFLINE:
        return local
    return AuthorizationDecision(AuthorizationStatus.INVALID)
