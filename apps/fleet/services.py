"""Writes of the fleet app: fleets, vehicles, cards, telemetry, and the sessions of fleet cards."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from apps.charging import services as charging
from apps.charging.choices import TokenType
from apps.charging.models import ChargingSession, IdToken
from apps.core import events
from apps.stations.models import Site

from .choices import CardKind, TelemetrySource
from .models import Fleet, FleetCard, TelemetryReading, Vehicle, VehicleSession

SIGNATURE_HEADER = "X-Fleet-Signature"  # "sha256=<hex HMAC-SHA256 of the body>"


def _saved(obj):
    obj.full_clean()
    obj.save()
    return obj


# --- Fleets ---------------------------------------------------------------------------------
@transaction.atomic
def fleet_create(*, name: str, site: Site, description: str = "", managers: Iterable = ()) -> Fleet:
    fleet = _saved(
        Fleet(
            name=name,
            site=site,
            description=description,
            telematics_secret=secrets.token_hex(32),
        )
    )
    fleet.managers.set(managers)
    return fleet


@transaction.atomic
def fleet_update(*, fleet: Fleet, managers: Iterable | None = None, **fields) -> Fleet:
    for name, value in fields.items():
        setattr(fleet, name, value)
    _saved(fleet)
    if managers is not None:
        fleet.managers.set(managers)
    return fleet


@transaction.atomic
def fleet_rotate_secret(*, fleet: Fleet) -> str:
    fleet.telematics_secret = secrets.token_hex(32)
    fleet.save(update_fields=["telematics_secret"])
    return fleet.telematics_secret


@transaction.atomic
def fleet_delete(*, fleet: Fleet) -> None:
    fleet.delete()


# --- Vehicles -------------------------------------------------------------------------------
@transaction.atomic
def vehicle_create(
    *,
    fleet: Fleet,
    make: str,
    model: str,
    battery_kwh: Decimal,
    vin: str,
    plate: str = "",
    depot: Site | None = None,
    is_active: bool = True,
) -> Vehicle:
    return _saved(
        Vehicle(
            fleet=fleet,
            make=make,
            model=model,
            battery_kwh=battery_kwh,
            vin=vin.upper(),
            plate=plate,
            depot=depot,
            is_active=is_active,
        )
    )


@transaction.atomic
def vehicle_update(*, vehicle: Vehicle, **fields) -> Vehicle:
    for name, value in fields.items():
        setattr(vehicle, name, value.upper() if name == "vin" else value)
    return _saved(vehicle)


@transaction.atomic
def vehicle_delete(*, vehicle: Vehicle) -> None:
    vehicle.delete()


# --- Cards ----------------------------------------------------------------------------------
@transaction.atomic
def card_create(
    *,
    fleet: Fleet,
    uid: str,
    kind: str = CardKind.RFID,
    vehicle: Vehicle | None = None,
    driver_name: str = "",
    driver=None,
    label: str = "",
) -> FleetCard:
    """Link the core's token ``uid`` to a vehicle or a driver of ``fleet``; the token is made
    when the token table does not hold it yet (an Autocharge id as a MacAddress token)."""
    token_type = TokenType.MAC_ADDRESS if kind == CardKind.AUTOCHARGE else TokenType.ISO14443
    token = IdToken.objects.filter(uid=uid).order_by("-is_active", "id").first()
    if token is None:
        token = charging.token_create(uid=uid, token_type=token_type, label=label)
    elif FleetCard.objects.filter(token=token).exists():
        raise ValidationError({"uid": _("This card already belongs to a fleet.")})
    return _saved(
        FleetCard(
            token=token,
            fleet=fleet,
            kind=kind,
            vehicle=vehicle,
            driver_name=driver_name,
            driver=driver,
        )
    )


@transaction.atomic
def card_update(*, card: FleetCard, **fields) -> FleetCard:
    for name, value in fields.items():
        setattr(card, name, value)
    return _saved(card)


@transaction.atomic
def card_delete(*, card: FleetCard) -> None:
    """Unlink the card from the fleet; the token stays in the token table."""
    card.delete()


# --- Telemetry ------------------------------------------------------------------------------
def _decimal(value: Any, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValidationError({field: _("Not a number.")}) from None


@transaction.atomic
def telemetry_record(
    *,
    vehicle: Vehicle,
    recorded_at: dt.datetime,
    soc_percent: Decimal | None = None,
    odometer_km: Decimal | None = None,
    source: str = TelemetrySource.API,
) -> TelemetryReading:
    """Keep a reading (a repeat of the same moment replaces it) and, when it is the newest,
    the vehicle's latest state of charge and odometer."""
    if soc_percent is None and odometer_km is None:
        raise ValidationError(_("A reading has a state of charge or an odometer value."))
    reading = TelemetryReading.objects.filter(vehicle=vehicle, recorded_at=recorded_at).first()
    reading = reading or TelemetryReading(vehicle=vehicle, recorded_at=recorded_at)
    reading.soc_percent, reading.odometer_km, reading.source = soc_percent, odometer_km, source
    _saved(reading)
    current = Vehicle.objects.select_for_update().get(pk=vehicle.pk)  # not the caller's copy
    if current.telemetry_at is None or recorded_at >= current.telemetry_at:
        current.soc_percent = soc_percent if soc_percent is not None else current.soc_percent
        current.odometer_km = odometer_km if odometer_km is not None else current.odometer_km
        current.telemetry_at = recorded_at
        current.save(update_fields=["soc_percent", "odometer_km", "telemetry_at"])
    return reading


class BadSignature(PermissionError):
    pass


def telematics_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@transaction.atomic
def telematics_webhook_receive(*, fleet: Fleet, body: bytes, signature: str) -> int:
    """A telematics provider's push: ``{"readings": [{"vin", "recorded_at", "soc_percent",
    "odometer_km"}, ...]}`` signed with the fleet's secret (``SIGNATURE_HEADER``).  Every
    reading is checked before any is kept; answers how many were kept."""
    if not hmac.compare_digest(telematics_signature(fleet.telematics_secret, body), signature):
        raise BadSignature(_("The signature does not match the body."))
    try:
        payload = json.loads(body)
        readings = payload["readings"]
        assert isinstance(readings, list)
    except (ValueError, KeyError, TypeError, AssertionError):
        raise ValidationError({"readings": _("The body is {“readings”: [...]}.")}) from None
    vehicles = {v.vin: v for v in fleet.vehicles.all()}
    parsed = []
    errors: dict[str, list[str]] = {}
    for index, item in enumerate(readings):
        try:
            if not isinstance(item, dict):
                raise ValidationError(_("A reading is an object."))
            vehicle = vehicles.get(str(item.get("vin", "")).upper())
            if vehicle is None:
                raise ValidationError(_("No vehicle of this fleet has this VIN."))
            moment = parse_datetime(str(item.get("recorded_at", "")))
            if moment is None or timezone.is_naive(moment):
                raise ValidationError(_("recorded_at is an ISO 8601 time with its offset."))
            parsed.append(
                {
                    "vehicle": vehicle,
                    "recorded_at": moment,
                    "soc_percent": _decimal(item.get("soc_percent"), "soc_percent"),
                    "odometer_km": _decimal(item.get("odometer_km"), "odometer_km"),
                }
            )
        except ValidationError as error:
            errors[f"readings[{index}]"] = error.messages
    if errors:
        raise ValidationError(errors)
    for values in parsed:
        try:
            telemetry_record(source=TelemetrySource.WEBHOOK, **values)
        except ValidationError as error:
            raise ValidationError({"readings": error.messages}) from error
    return len(parsed)


# --- Sessions of fleet cards ----------------------------------------------------------------
def vehicle_session_data(usage: VehicleSession) -> dict:
    """A fleet session as integrators see it (the vehicle.session_* webhooks)."""
    session = usage.session
    vehicle = usage.vehicle
    return {
        "session_id": session.pk,
        "transaction_id": session.transaction_id,
        "station": {"id": session.station_id, "identity": session.station.identity},
        "site_id": session.station.site_id,
        "evse_id": session.evse.evse_id,
        "status": session.status,
        "started_at": session.started_at,
        "ended_at": session.ended_at,
        "energy_wh": session.energy_wh,
        "card": session.id_token,
        "fleet": {"id": usage.fleet_id, "name": usage.fleet.name},
        "vehicle": vehicle and {"id": vehicle.pk, "vin": vehicle.vin, "plate": vehicle.plate},
        "driver": usage.driver_name,
    }


@transaction.atomic
def vehicle_session_record(*, session_id: int) -> VehicleSession | None:
    """A session started with a fleet's card is the card's vehicle's (or driver's) usage;
    announced as ``vehicle.session_started``.  Other sessions: nothing."""
    session = (
        ChargingSession.objects.select_related("station", "evse").filter(pk=session_id).first()
    )
    if session is None or session.token_id is None:
        return None
    card = (
        FleetCard.objects.select_related("fleet", "vehicle")
        .filter(token_id=session.token_id)
        .first()
    )
    if card is None:
        return None
    usage, created = VehicleSession.objects.get_or_create(
        session=session,
        defaults={
            "fleet": card.fleet,
            "vehicle": card.vehicle,
            "card": card,
            "driver_name": card.driver_name or (card.driver and str(card.driver)) or "",
            "started_at": session.started_at,
        },
    )
    if created:
        events.emit(
            events.VEHICLE_SESSION_STARTED,
            site_id=session.station.site_id,
            data=vehicle_session_data(usage),
        )
    return usage


def vehicle_session_ended(*, session_id: int) -> VehicleSession | None:
    usage = (
        VehicleSession.objects.select_related(
            "session__station", "session__evse", "fleet", "vehicle"
        )
        .filter(session_id=session_id)
        .first()
    )
    if usage is None:
        usage = vehicle_session_record(session_id=session_id)
        if usage is None:
            return None
    events.emit(
        events.VEHICLE_SESSION_ENDED,
        site_id=usage.session.station.site_id,
        data=vehicle_session_data(usage),
    )
    return usage
