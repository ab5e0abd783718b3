"""Charging profiles (OCPI 2.2.1 chargingprofiles module, CPO side: RECEIVER).

A partner (a smart-charging service of the eMSP) sets, reads or clears the charging profile of
a session of one of its drivers.  Power management owns the currents: roaming asks it through
the core's ``SESSION_CURRENT_CAP`` / ``SESSION_CURRENT`` policies (the power app answers: the
session's own current cap, honoured by its next allocation, which sends the station its
profile).  Answered at once with a ChargingProfileResponse; the result (ChargingProfileResult,
ActiveChargingProfileResult or ClearProfileResult) is POSTed to ``response_url`` through the
outbox.

One number: power's cap is a current for the whole session, so a profile's first period
(``start_period`` 0) is applied; a limit in W becomes amps at 230 V per phase of the EVSE.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.charging.choices import SessionStatus
from apps.charging.models import ChargingSession
from apps.core import policies

from . import protocol, services
from .models import Partner, RemoteToken

RESULT_TIMEOUT_SECONDS = 30
VOLTS = Decimal(230)


class ProfileError(ValueError):
    pass


def session_of(partner: Partner, session_id: str) -> ChargingSession | None:
    """The partner's driver's running session ``session_id`` (None: not theirs, or over)."""
    if not session_id.isdigit():
        return None
    session = (
        ChargingSession.objects.select_related("evse")
        .filter(pk=int(session_id), status=SessionStatus.ACTIVE)
        .first()
    )
    if session is None or not session.id_token:
        return None
    mine = RemoteToken.objects.filter(partner=partner, uid=session.id_token).exists()
    return session if mine else None


def cap_of(profile: dict[str, Any], phases: int) -> Decimal:
    """The current cap (A) of an OCPI ChargingProfile: its first period's limit."""
    periods = profile.get("charging_profile_period") or []
    if not isinstance(periods, list) or not periods:
        raise ProfileError("charging_profile_period is required")
    first = min(periods, key=lambda period: int(period.get("start_period", 0)))
    limit = Decimal(str(first["limit"]))
    if limit < 0:
        raise ProfileError("a limit cannot be negative")
    unit = profile.get("charging_rate_unit")
    if unit == "A":
        amps = limit
    elif unit == "W":
        amps = limit / (VOLTS * max(phases, 1))
    else:
        raise ProfileError("charging_rate_unit must be W or A")
    return amps.quantize(Decimal("0.1"), rounding=ROUND_DOWN)


def _answer(partner: Partner, response_url: str, body: dict[str, Any]) -> None:
    services.push_enqueue(
        partners=[partner], module="chargingprofiles", method="POST", path=response_url, body=body
    )


@transaction.atomic
def profile_set(*, partner: Partner, session_id: str, body: dict[str, Any]) -> str:
    """PUT: returns the ChargingProfileResponseType; the result goes to ``response_url``."""
    session = session_of(partner, session_id)
    if session is None:
        return "UNKNOWN_SESSION"
    response_url = body.get("response_url") or ""
    if not response_url:
        raise ProfileError("response_url is required")
    cap = cap_of(body.get("charging_profile") or {}, session.evse.phases or 1)
    applied = policies.ask(policies.SESSION_CURRENT_CAP, session_id=session.pk, max_current_a=cap)
    if applied is None:
        return "NOT_SUPPORTED"
    _answer(partner, response_url, {"result": "ACCEPTED"})
    return "ACCEPTED"


@transaction.atomic
def profile_clear(*, partner: Partner, session_id: str, response_url: str) -> str:
    session = session_of(partner, session_id)
    if session is None:
        return "UNKNOWN_SESSION"
    if not response_url:
        raise ProfileError("response_url is required")
    cleared = policies.ask(policies.SESSION_CURRENT_CAP, session_id=session.pk, max_current_a=None)
    if cleared is None:
        return "NOT_SUPPORTED"
    _answer(partner, response_url, {"result": "ACCEPTED"})
    return "ACCEPTED"


@transaction.atomic
def profile_get(*, partner: Partner, session_id: str, response_url: str) -> str:
    session = session_of(partner, session_id)
    if session is None:
        return "UNKNOWN_SESSION"
    if not response_url:
        raise ProfileError("response_url is required")
    current = policies.ask(policies.SESSION_CURRENT, session_id=session.pk)
    if current is None:
        return "NOT_SUPPORTED"
    limit = current.get("limit_a")
    result: dict[str, Any] = {"result": "ACCEPTED" if limit is not None else "UNKNOWN"}
    if limit is not None:
        result["profile"] = {
            "start_date_time": protocol.timestamp(timezone.now()),
            "charging_profile": {
                "charging_rate_unit": "A",
                "charging_profile_period": [{"start_period": 0, "limit": Decimal(limit)}],
            },
        }
    _answer(partner, response_url, result)
    return "ACCEPTED"
