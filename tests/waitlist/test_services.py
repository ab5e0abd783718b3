"""The queue's rules against the real database: joining (only drivers the rules let charge),
positions, the conditional-update claim of a freed port, expiry to the back of the queue,
dropping after no-shows, the driver's arrival, and joining by a card tap."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.charging import services as charging
from apps.charging.models import ChargingSession, IdToken
from apps.notifications.models import Notification
from apps.stations.models import Evse
from apps.waitlist import selectors, services
from apps.waitlist.choices import EntryStatus, JoinedVia
from apps.waitlist.models import WaitlistEntry

from .conftest import busy, make_group, ports


def join(group, token, **kw):
    return services.entry_join(group=group, token_uid=token.uid, via=JoinedVia.PAGE, **kw)


def test_drivers_join_in_order_and_see_their_place(group, tokens):
    entries = [join(group, token, email=f"{i}@example.org") for i, token in enumerate(tokens)]
    assert [selectors.entry_position(e) for e in entries] == [1, 2, 3]
    assert join(group, tokens[0]).pk == entries[0].pk  # joining again keeps the place
    # no sessions yet: an hour each, two ports → the third waits two hours
    assert selectors.expected_wait(entries[2]) == dt.timedelta(hours=2)
    assert Notification.objects.filter(event_key=f"waitlist:{entries[0].pk}:joined").exists()
    services.entry_leave(entry=entries[0])
    entries[1].refresh_from_db()
    assert selectors.entry_position(entries[1]) == 1


def test_only_drivers_allowed_to_charge_may_join(group, tokens):
    IdToken.objects.filter(pk=tokens[0].pk).update(is_active=False)
    with pytest.raises(services.WaitlistError):
        join(group, tokens[0])
    with pytest.raises(services.WaitlistError):
        services.entry_join(group=group, token_uid="NOBODY", via=JoinedVia.API)


def test_a_closed_queue_takes_nobody(group, tokens):
    now = timezone.now().astimezone(dt.timezone(dt.timedelta(hours=-5)))
    group.opens_at = (now + dt.timedelta(hours=2)).time()
    group.closes_at = (now + dt.timedelta(hours=3)).time()
    group.site.timezone = "Etc/GMT+5"  # a fixed UTC-5, so the hours above are the site's
    group.site.save()
    group.save()
    with pytest.raises(services.WaitlistError):
        join(group, tokens[0])


def test_a_freed_port_is_held_for_the_first_driver_and_only_one(group, tokens):
    first, second, _third = (join(group, token) for token in tokens)
    port = ports(group)[0]
    busy(port, "Available")
    held = services.port_promote(evse_pk=port.pk)
    assert held.pk == first.pk and held.status == EntryStatus.HELD
    assert held.hold_expires_at - held.held_at == dt.timedelta(minutes=10)
    # promoting the same port again gives it to nobody else
    assert services.port_promote(evse_pk=port.pk) is None
    second.refresh_from_db()
    assert second.status == EntryStatus.WAITING


def test_a_held_driver_gets_no_second_port(group, tokens):
    other_group_tokens = tokens[:1]
    entry = join(group, other_group_tokens[0])
    a, b = ports(group)
    busy(a, "Available")
    busy(b, "Available")
    assert services.port_promote(evse_pk=a.pk).pk == entry.pk
    assert services.port_promote(evse_pk=b.pk) is None


def test_two_processes_racing_on_one_port_hand_it_to_exactly_one_driver(wl_tenant):
    """Two threads, each with its own database connection, claim the same freed port at once
    (committed data: the unique hold decides)."""
    from apps.stations.services import site_create

    group = make_group(site_create(name="Race garage", timezone="America/Montreal"))
    for index in range(3):
        services.entry_join(
            group=group, token_uid=f"RACE{index}", via=JoinedVia.API, check_access=False
        )
    port = ports(group)[0]
    busy(port, "Available")
    tenant = connection.tenant
    barrier = threading.Barrier(2)
    results = []

    def claim():
        try:
            with tenant_context(tenant):
                barrier.wait()
                results.append(services.port_promote(evse_pk=port.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([r for r in results if r is not None]) == 1
    assert WaitlistEntry.objects.filter(status=EntryStatus.HELD).count() == 1


def test_an_expired_hold_goes_to_the_back_then_the_driver_is_dropped(group, tokens):
    first, second, third = (join(group, token, email="d@example.org") for token in tokens)
    port = ports(group)[0]
    busy(port, "Available")
    services.port_promote(evse_pk=port.pk)
    WaitlistEntry.objects.filter(pk=first.pk).update(hold_expires_at=timezone.now())
    assert services.hold_expire(entry_id=first.pk) == EntryStatus.WAITING
    first.refresh_from_db()
    assert first.no_shows == 1 and first.held_evse is None
    assert [selectors.entry_position(e) for e in (second, third, first)] == [1, 2, 3]
    # the port goes to the next driver
    assert services.port_promote(evse_pk=port.pk).pk == second.pk
    # a second no-show drops the driver (the group allows two)
    services.hold_expire(entry_id=second.pk)  # not due yet: nothing
    assert WaitlistEntry.objects.get(pk=second.pk).status == EntryStatus.HELD
    WaitlistEntry.objects.filter(pk=first.pk).update(no_shows=1)
    services.entry_leave(entry=second)
    services.entry_leave(entry=third)
    assert services.port_promote(evse_pk=port.pk).pk == first.pk
    WaitlistEntry.objects.filter(pk=first.pk).update(hold_expires_at=timezone.now())
    assert services.hold_expire(entry_id=first.pk) == EntryStatus.DROPPED
    assert Notification.objects.filter(event_key=f"waitlist:{first.pk}:dropped").exists()


def test_a_refused_reservation_keeps_the_drivers_place(group, tokens):
    first, second, _ = (join(group, token) for token in tokens)
    port = ports(group)[0]
    busy(port, "Available")
    services.port_promote(evse_pk=port.pk)
    services.hold_refused(entry_id=first.pk, reason="Rejected")
    first.refresh_from_db()
    assert first.status == EntryStatus.WAITING and selectors.entry_position(first) == 1
    # the port passes to the next driver (the refused one skipped)
    assert services.port_promote(evse_pk=port.pk, skip_entry_ids=[first.pk]).pk == second.pk


def test_the_driver_arriving_on_the_held_port_is_served(group, tokens):
    first = join(group, tokens[0])
    port = ports(group)[0]
    busy(port, "Available")
    services.port_promote(evse_pk=port.pk)
    session, _ = charging.session_start(
        station_id=port.station_id,
        evse_id=port.evse_id,
        id_token=tokens[0].uid,
        meter_start_wh=0,
        started_at=timezone.now(),
    )
    assert services.session_started(session_id=session.pk).pk == first.pk
    first.refresh_from_db()
    assert first.status == EntryStatus.CHARGING and first.session_id == session.pk


def test_a_tap_on_a_busy_group_joins_the_queue_and_a_free_port_does_not(group, tokens):
    station = group.stations.order_by("pk").first()
    decision = charging.authorize(uid=tokens[0].uid, station_id=station.pk)
    assert decision.accepted
    entry = WaitlistEntry.objects.get(token_uid=tokens[0].uid)
    assert entry.joined_via == JoinedVia.TAP
    # a port is free: a tap is just a tap
    busy(ports(group)[1], "Available")
    charging.authorize(uid=tokens[1].uid, station_id=station.pk)
    assert not WaitlistEntry.objects.filter(token_uid=tokens[1].uid).exists()
    # a refused card is refused and joins nothing
    busy(ports(group)[1], "Charging")
    IdToken.objects.filter(pk=tokens[2].pk).update(is_active=False)
    assert not charging.authorize(uid=tokens[2].uid, station_id=station.pk).accepted
    assert not WaitlistEntry.objects.filter(token_uid=tokens[2].uid).exists()
    assert ChargingSession.objects.count() == 0  # nothing started, nothing charged
    assert Evse.objects.filter(status="Available").count() == 0


def test_a_driver_stopping_their_session_does_not_join_the_queue(group, tokens):
    """1.6 StopTransaction and 2.0.1 TransactionEvent(Ended) ask about the token with no port
    named, like a tap: the driver who just stopped is not queued."""
    port = ports(group)[0]
    session, _ = charging.session_start(
        station_id=port.station_id,
        evse_id=port.evse_id,
        id_token=tokens[0].uid,
        meter_start_wh=0,
        started_at=timezone.now(),
    )
    charging.session_stop(
        station_id=port.station_id,
        transaction_id=session.transaction_id,
        meter_stop_wh=100,
        ended_at=timezone.now(),
        reason="Local",
    )
    assert charging.authorize(uid=tokens[0].uid, station_id=port.station_id).accepted
    assert not WaitlistEntry.objects.filter(token_uid=tokens[0].uid).exists()
