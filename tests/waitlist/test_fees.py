"""Reservation and no-show fees through the real services: the waitlist holds ports, billing
prices the sessions (issue 15).  A tariff on the site with ``reservation``: a no-show is
recorded once and charged on the card's next receipt, once; the session that starts on a port
held for its driver pays the reservation fee; a driver who found a free port does not."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from apps.billing import services as billing
from apps.billing.models import NoShowFee, ReceiptLine
from apps.billing.services.reservations import no_show_record
from apps.charging import services as charging
from apps.waitlist import services
from apps.waitlist.choices import JoinedVia
from apps.waitlist.models import WaitlistEntry

from .conftest import busy, ports

TARIFF = {
    "currency": "CAD",
    "energy": [{"price_per_kwh": "0.25"}],
    "reservation": {"fee": "1.50", "no_show_fee": "5.00"},
}


def charge(port, token, *, wh: int):
    """A session of ``token`` on ``port``, started now and stopped a minute later, billed."""
    now = timezone.now()
    session, _ = charging.session_start(
        station_id=port.station_id,
        evse_id=port.evse_id,
        id_token=token.uid,
        meter_start_wh=0,
        started_at=now - dt.timedelta(minutes=2),
    )
    services.session_started(session_id=session.pk)
    charging.session_stop(
        station_id=port.station_id,
        transaction_id=session.transaction_id,
        meter_stop_wh=wh,
        ended_at=now - dt.timedelta(minutes=1),
    )
    return billing.session_bill(session_id=session.pk)


def lines(cost) -> list[tuple[str, Decimal]]:
    return [(x.kind, x.amount) for x in ReceiptLine.objects.filter(cost=cost).order_by("position")]


def test_no_show_and_reservation_fees_reach_the_receipts(group, tokens):
    tariff = billing.tariff_create(
        name="Waitlist fees",
        definition=TARIFF,
        effective_from=timezone.now() - dt.timedelta(days=1),
    )
    billing.tariff_assign(tariff=tariff, site=group.site)
    first, second, _third = (
        services.entry_join(group=group, token_uid=t.uid, via=JoinedVia.API) for t in tokens
    )
    port, other = ports(group)
    busy(port, "Available")

    # the first driver lets the hold expire: a no-show fee, recorded once
    assert services.port_promote(evse_pk=port.pk).pk == first.pk
    expired = timezone.now() - dt.timedelta(minutes=10)
    WaitlistEntry.objects.filter(pk=first.pk).update(hold_expires_at=expired)
    services.hold_expire(entry_id=first.pk)
    services.hold_expire(entry_id=first.pk)  # again: nothing more
    fee = NoShowFee.objects.get(token_uid=tokens[0].uid)
    assert (fee.amount, fee.currency, fee.station_id, fee.cost) == (
        Decimal("5.00"),
        "CAD",
        port.station_id,
        None,
    )
    # the same no-show told again (a retried event) is the same fee
    again = no_show_record(
        key=fee.key, token_uid=tokens[0].uid, station_id=port.station_id, at=expired
    )
    assert again.pk == fee.pk and NoShowFee.objects.count() == 1

    # the second driver arrives on the held port: the reservation fee is on their receipt
    assert services.port_promote(evse_pk=port.pk).pk == second.pk
    cost = charge(port, tokens[1], wh=4_000)
    assert lines(cost) == [("energy", Decimal("1.00")), ("reservation", Decimal("1.50"))]
    assert cost.total == Decimal("2.50")

    # the first driver later finds the other port free (no hold): no reservation fee, but the
    # no-show fee is charged on this receipt, and only on this one
    busy(other, "Available")
    cost = charge(other, tokens[0], wh=2_000)
    assert lines(cost) == [("energy", Decimal("0.50")), ("no_show", Decimal("5.00"))]
    assert cost.total == Decimal("5.50")
    fee.refresh_from_db()
    assert fee.cost_id == cost.pk
    later = charge(other, tokens[0], wh=2_000)
    assert lines(later) == [("energy", Decimal("0.50"))]


def test_a_tariff_without_the_component_charges_nothing(group, tokens):
    tariff = billing.tariff_create(
        name="Plain",
        definition={"currency": "CAD", "energy": [{"price_per_kwh": "0.25"}]},
        effective_from=timezone.now() - dt.timedelta(days=1),
    )
    billing.tariff_assign(tariff=tariff, site=group.site)
    first = services.entry_join(group=group, token_uid=tokens[0].uid, via=JoinedVia.API)
    port = ports(group)[0]
    busy(port, "Available")
    services.port_promote(evse_pk=port.pk)
    WaitlistEntry.objects.filter(pk=first.pk).update(hold_expires_at=timezone.now())
    services.hold_expire(entry_id=first.pk)
    assert not NoShowFee.objects.filter(token_uid=tokens[0].uid).exists()
    services.port_promote(evse_pk=port.pk)
    cost = charge(port, tokens[0], wh=4_000)
    assert lines(cost) == [("energy", Decimal("1.00"))]
