"""Reservation fees (the tariff's optional ``reservation`` component): a no-show's fee is
recorded when a held port's hold expires unused and charged on the card's next receipt
(``sessions._price_and_post``); the reservation fee itself is a line of the session that
started on the held port (the engine, from ``SessionTimeline.reserved``)."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, connection, transaction

from apps.stations.models import Station

from ..models import NoShowFee
from ..selectors import tariff_for, token_for_uid


def no_show_record(*, key: str, token_uid: str, station_id: int, at: datetime) -> NoShowFee | None:
    """Record the fee of a no-show (once per ``key``) if the tariff that would have priced the
    driver's session at ``station_id`` at ``at`` has a no-show fee; else None."""
    existing = NoShowFee.objects.filter(key=key).first()
    if existing is not None:
        return existing
    station = Station.objects.select_related("site").filter(pk=station_id).first()
    if station is None:
        return None
    choice = tariff_for(station=station, token=token_for_uid(token_uid), at=at)
    if choice.version is None:
        return None
    tariff = choice.version.parsed
    if tariff.reservation is None or not tariff.reservation.no_show_fee:
        return None
    if tariff.currency != connection.tenant.currency:
        return None  # a tariff in another currency prices nothing (sessions refuse it too)
    try:
        with transaction.atomic():
            return NoShowFee.objects.create(
                key=key,
                token_uid=token_uid,
                station=station,
                occurred_at=at,
                tariff_version=choice.version,
                currency=tariff.currency,
                amount=tariff.reservation.no_show_fee,
            )
    except IntegrityError:  # recorded meanwhile by another process
        return NoShowFee.objects.get(key=key)
