"""Sessions and CDRs of partners' drivers (OCPI 2.2.1 sessions and cdrs modules, CPO side).

A session charged with a partner's token is PUT to the partner when it starts, PATCHed with
its energy and its cost so far (billing's running price through the ``SESSION_RUNNING_COST``
policy: the engine's, as the receipt will be) as meter values arrive and when it ends; once billing has priced it
(``session.priced``), the CDR billing renders (``OCPI_CDR`` policy: the receipt's amounts, the
OCPI tariff and charging periods) is POSTed to the partner's cdrs endpoint.  All of them are
outbox pushes written in the transaction of what they report (or right after the pricing).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from apps.charging.models import ChargingSession
from apps.core import policies

from . import protocol, selectors, services
from .models import RemoteToken, SignedMeterValue


def _token_of(session: ChargingSession) -> RemoteToken | None:
    if not session.id_token:
        return None
    return RemoteToken.objects.select_related("partner").filter(uid=session.id_token).first()


def cdr_token(token: RemoteToken) -> dict[str, Any]:
    return {
        "country_code": token.country_code,
        "party_id": token.party_id,
        "uid": token.uid,
        "type": token.token_type,
        "contract_id": token.contract_id,
    }


def _kwh(session: ChargingSession) -> Decimal:
    return (Decimal(session.energy_wh or 0) / 1000).quantize(Decimal("0.001"))


def session_data(session: ChargingSession, token: RemoteToken) -> dict[str, Any]:
    profile = services.profile_get()
    data: dict[str, Any] = {
        "country_code": profile.country_code,
        "party_id": profile.party_id,
        "id": str(session.pk),
        "start_date_time": protocol.timestamp(session.started_at),
        "kwh": _kwh(session),
        "cdr_token": cdr_token(token),
        "auth_method": "AUTH_REQUEST" if token.whitelist != "ALWAYS" else "WHITELIST",
        "location_id": selectors.location_id(session.station.site_id),
        "evse_uid": selectors.evse_uid(session.station_id, session.evse.evse_id),
        "connector_id": str(session.connector_id),
        "currency": connection.tenant.currency,
        "status": "ACTIVE" if session.ended_at is None else "COMPLETED",
        "last_updated": protocol.timestamp(session.updated_at or timezone.now()),
    }
    if session.ended_at is not None:
        data["end_date_time"] = protocol.timestamp(session.ended_at)
    cost = policies.ask(policies.SESSION_RUNNING_COST, session_id=session.pk)
    if cost is not None:
        data["total_cost"] = {
            "excl_vat": Decimal(cost["excl_vat"]),
            "incl_vat": Decimal(cost["incl_vat"]),
        }
    return data


def _session(session_id: int) -> ChargingSession | None:
    return ChargingSession.objects.select_related("station", "evse").filter(pk=session_id).first()


def _path(session: ChargingSession) -> str:
    profile = services.profile_get()
    return f"/{profile.country_code}/{profile.party_id}/{session.pk}"


def on_session_started(*, event, session_id, **_) -> None:
    session = _session(session_id)
    token = _token_of(session) if session else None
    if token is None or token.partner.endpoint("sessions") is None:
        return
    services.push_enqueue(
        partners=[token.partner],
        party=(token.country_code, token.party_id),
        module="sessions",
        method="PUT",
        path=_path(session),
        body=session_data(session, token),
    )


def _patch(session_id: int, fields: tuple[str, ...]) -> None:
    session = _session(session_id)
    token = _token_of(session) if session else None
    if token is None or token.partner.endpoint("sessions") is None:
        return
    data = session_data(session, token)
    services.push_enqueue(
        partners=[token.partner],
        party=(token.country_code, token.party_id),
        module="sessions",
        method="PATCH",
        path=_path(session),
        body={name: data[name] for name in fields if name in data},
    )


def on_meter_values(*, event, session_id=None, **_) -> None:
    if session_id is not None:
        _patch(session_id, ("kwh", "total_cost", "last_updated"))


def on_session_ended(*, event, session_id, **_) -> None:
    _patch(session_id, ("kwh", "total_cost", "status", "end_date_time", "last_updated"))


def on_session_priced(*, event, session_id, **_) -> None:
    session = _session(session_id)
    token = _token_of(session) if session else None
    if token is None or token.partner.endpoint("cdrs") is None:
        return
    profile = services.profile_get()
    site = session.station.site
    location = {
        "id": selectors.location_id(site.pk) if site else "",
        "name": site.name if site else "",
        "address": (site.address or site.name) if site else "",
        "city": (site.city or "-") if site else "-",
        "country": selectors.alpha3(site.country) if site else "",
        "evse_uid": selectors.evse_uid(session.station_id, session.evse.evse_id),
        "evse_id": (
            f"{profile.country_code}*{profile.party_id}*E{session.station_id}*"
            f"{session.evse.evse_id}"
        ),
        "connector_id": str(session.connector_id),
        "connector_standard": "IEC_62196_T2",
        "connector_format": "SOCKET",
        "connector_power_type": "AC_3_PHASE",
    }
    if site is not None and site.latitude is not None and site.longitude is not None:
        location["coordinates"] = {
            "latitude": f"{site.latitude:.6f}",
            "longitude": f"{site.longitude:.6f}",
        }
    cdr = policies.ask(
        policies.OCPI_CDR,
        session_id=session.pk,
        country_code=profile.country_code,
        party_id=profile.party_id,
        cdr_token=cdr_token(token),
        cdr_location=location,
    )
    if cdr is None:
        return
    if signed := signed_data(session):
        cdr = {**cdr, "signed_data": signed}
    services.push_enqueue(
        partners=[token.partner],
        party=(token.country_code, token.party_id),
        module="cdrs",
        method="POST",
        path="",
        body=cdr,
    )


# OCPP reading context -> OCPI SignedValue nature
NATURE = {"Transaction.Begin": "Start", "Transaction.End": "End"}
MAX_SIGNED_CHARS = 5000  # OCPI SignedValue.signed_data: string(5000); longer is not cut


def on_signed_values(*, event, session_id=None, signed=(), **_) -> None:
    """Keep a partner's driver's session's signed readings (in the emitter's transaction)."""
    session = _session(session_id) if session_id else None
    if session is None or _token_of(session) is None:
        return
    SignedMeterValue.objects.bulk_create(
        [
            SignedMeterValue(
                session=session,
                taken_at=value.timestamp[:40],
                context=value.context[:24],
                measurand=value.measurand[:40],
                signed_data=value.signed_data,
                encoding=value.encoding[:36],
                signing_method=value.signing_method[:50],
                public_key=value.public_key,
                plain=value.plain[:64],
            )
            for value in signed
            if value.signed_data
        ]
    )


def signed_data(session: ChargingSession) -> dict[str, Any] | None:
    """OCPI 2.2.1 SignedData of a session's signed readings (none kept: None).  The encoding
    and public key are the first the station named; readings longer than OCPI allows are left
    out rather than cut (a cut signature verifies nothing)."""
    values = [
        value
        for value in SignedMeterValue.objects.filter(session=session).order_by("id")
        if len(value.signed_data) <= MAX_SIGNED_CHARS
    ]
    if not values:
        return None
    data: dict[str, Any] = {
        "encoding_method": next((v.encoding for v in values if v.encoding), "OCPP-SignedData"),
        "signed_values": [
            {
                "nature": NATURE.get(value.context, "Intermediate"),
                "plain_data": value.plain,
                "signed_data": value.signed_data,
            }
            for value in values
        ],
    }
    if public_key := next((v.public_key for v in values if v.public_key), ""):
        data["public_key"] = public_key[:512]
    return data
