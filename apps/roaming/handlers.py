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

from django.conf import settings

from apps.charging.choices import AuthorizationStatus
from apps.charging.models import IdToken
from apps.charging.services import AuthorizationDecision
from apps.stations.models import Evse, Station

from . import selectors, services
from .authorization import realtime_authorize
from .choices import PartnerStatus, Whitelist
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


# OCPI WhitelistType: ALWAYS and ALLOWED may be whitelisted.  ALLOWED_OFFLINE only while the
# eMSP cannot be reached: a station that uses its list while online (LocalPreAuthorize) would
# never ask, so it stays out; NEVER is never whitelisted.
LOCAL_LIST_WHITELISTS = (Whitelist.ALWAYS, Whitelist.ALLOWED)
# OCPP idTag lengths: 1.6 IdToken is CiString20, 2.0.1 idToken 36
ID_LENGTH = {"1.6": 20, "2.0.1": 36}


def local_list_tokens(*, station, moment=None, **_) -> dict[str, dict] | None:
    """Partners' drivers' cards a station may keep in its local list (core policy
    ``LOCAL_LIST_TOKENS``; the access app compiles and sends the lists): valid RFID tokens of
    connected partners whose whitelist allows it, the most recently updated first, at most
    ``ROAMING_LOCAL_LIST_MAX`` (a station's list is small; the rest are asked online)."""
    limit = int(getattr(settings, "ROAMING_LOCAL_LIST_MAX", 500))
    longest = ID_LENGTH.get(station.ocpp_version, 20)
    rows = (
        RemoteToken.objects.filter(
            valid=True,
            whitelist__in=LOCAL_LIST_WHITELISTS,
            token_type="RFID",
            partner__status=PartnerStatus.CONNECTED,
        )
        .order_by("-last_updated", "pk")
        .values_list("uid", "group_id")
    )
    entries: dict[str, dict] = {}
    for uid, group_id in rows.iterator():
        if len(entries) >= limit:
            break
        if len(uid) > longest or uid in entries:
            continue
        entries[uid] = {
            "status": "Accepted",
            "expiry": None,
            "group": group_id if group_id and len(group_id) <= longest else None,
            "type": "ISO14443",
        }
    return entries or None
