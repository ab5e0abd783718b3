"""Online/offline tracking and the rule for sessions a dead station left open."""

import datetime as dt

from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.charging import services as charging
from apps.charging.metering import Sample
from apps.charging.models import ChargingSession
from apps.core import events
from apps.ocpp.tasks import prune_message_log, sweep_liveness
from apps.stations.models import Station, StatusChange
from apps.stations.services import station_connected, station_disconnected
from tests.factories import SiteFactory
from tests.live import wait_until
from tests.ocpp.clients import Connected, in_db


async def test_disconnect_and_reconnect_are_recorded(server, make_station, live_alpha):
    station, identity, password = make_station()

    def offline():
        return not Station.objects.get(pk=station.pk).is_online

    def history():
        return list(
            StatusChange.objects.filter(station=station, kind="connection")
            .order_by("occurred_at", "id")
            .values_list("status", flat=True)
        )

    async with Connected(server.ws, identity, password, "1.6"):
        pass
    # The online mark follows the accept (batched); wait for the whole first visit.
    await wait_until(lambda: in_db(live_alpha, lambda: len(history()) == 2))
    async with Connected(server.ws, identity, password, "1.6"):
        await wait_until(lambda: in_db(live_alpha, lambda: not offline()))

    await wait_until(lambda: in_db(live_alpha, lambda: len(history()) == 4))
    assert await in_db(live_alpha, history) == ["Online", "Offline", "Online", "Offline"]


async def test_a_reconnect_elsewhere_supersedes_the_old_socket(
    server, server_b, make_station, live_alpha
):
    station, identity, password = make_station()
    async with Connected(server.ws, identity, password, "1.6") as first:
        async with Connected(server_b.ws, identity, password, "1.6"):
            await wait_until(lambda: first._connection.close_code is not None)

            def state():
                return Station.objects.values_list("is_online", flat=True).get(pk=station.pk)

            # the old socket's late disconnect does not mark the station offline
            assert await in_db(live_alpha, state) is True


def test_events_are_emitted_after_commit(alpha):
    seen = []

    def handler(*, event, **payload):
        seen.append((event, payload))

    events.subscribe(events.STATION_CONNECTED, handler)
    try:
        station = Station.objects.create(identity="EVT-1")
        station_connected(station_id=station.pk, connection_id="c1", version="1.6")
        assert seen == []  # not before the transaction commits
    finally:
        events.unsubscribe(events.STATION_CONNECTED, handler)


def test_silent_stations_go_offline_and_stale_sessions_close_by_rule(alpha):
    site = SiteFactory()
    long_ago = timezone.now() - dt.timedelta(hours=30)
    station = Station.objects.create(identity="SILENT-1", site=site, heartbeat_interval=60)
    station_connected(station_id=station.pk, connection_id="c", version="1.6")
    session, _ = charging.session_start(
        station_id=station.pk, evse_id=1, id_token="T", meter_start_wh=1_000, started_at=long_ago
    )
    last = long_ago + dt.timedelta(minutes=40)
    charging.meter_values_record(
        station_id=station.pk,
        evse_id=1,
        session=session,
        samples=[
            Sample(
                timestamp=last, measurand="Energy.Active.Import.Register", value=4_200, unit="Wh"
            )
        ],
    )
    Station.objects.filter(pk=station.pk).update(last_seen_at=long_ago + dt.timedelta(minutes=41))

    result = sweep_liveness.run()
    assert result == {"offline": 1, "sessions_closed": 1}
    station.refresh_from_db()
    session.refresh_from_db()
    assert not station.is_online
    assert session.status == "closed" and session.stop_reason == "StationLost"
    assert session.ended_at == last and session.energy_wh == 3_200
    # the station comes back and sends its real stop: it wins, nothing is counted twice
    charging.session_stop(
        station_id=station.pk,
        transaction_id=session.transaction_id,
        meter_stop_wh=4_500,
        ended_at=last + dt.timedelta(minutes=5),
        reason="EVDisconnected",
    )
    session.refresh_from_db()
    assert session.status == "completed" and session.energy_wh == 3_500
    assert sweep_liveness.run() == {"offline": 0, "sessions_closed": 0}


def test_disconnect_of_an_old_socket_is_ignored(alpha):
    station = Station.objects.create(identity="OLD-SOCK")
    station_connected(station_id=station.pk, connection_id="new", version="2.0.1")
    assert station_disconnected(station_id=station.pk, connection_id="old") is False
    assert Station.objects.get(pk=station.pk).is_online


def test_message_log_is_pruned(alpha, settings):
    from apps.ocpp.models import MessageLog

    station = Station.objects.create(identity="LOGGY")
    old = MessageLog.objects.create(
        station=station,
        direction="in",
        message_type=2,
        action="Heartbeat",
        payload={},
        created_at=timezone.now() - dt.timedelta(days=settings.OCPP_MESSAGE_LOG_DAYS + 1),
    )
    fresh = MessageLog.objects.create(
        station=station,
        direction="in",
        message_type=2,
        action="Heartbeat",
        payload={},
        created_at=timezone.now(),
    )
    assert prune_message_log.run() == 1
    assert (
        not MessageLog.objects.filter(pk=old.pk).exists()
        and MessageLog.objects.filter(pk=fresh.pk).exists()
    )


def test_stale_rule_uses_tenant_of_each_schema(alpha, beta):
    with tenant_context(beta):
        assert ChargingSession.objects.count() == 0
        assert sweep_liveness.run() == {"offline": 0, "sessions_closed": 0}


def test_a_quiet_socket_marked_offline_comes_back_with_its_next_frame(alpha):
    from apps.stations.services import station_seen, stations_mark_silent_offline

    station = Station.objects.create(identity="QUIET-1", heartbeat_interval=60)
    station_connected(station_id=station.pk, connection_id="sock", version="1.6")
    Station.objects.filter(pk=station.pk).update(
        last_seen_at=timezone.now() - dt.timedelta(hours=1)
    )
    assert stations_mark_silent_offline() == 1
    assert not Station.objects.get(pk=station.pk).is_online
    station_seen(station_id=station.pk, connection_id="sock")
    assert Station.objects.get(pk=station.pk).is_online
    # a frame from a socket that is no longer the station's changes nothing
    station_disconnected(station_id=station.pk, connection_id="sock")
    station_seen(station_id=station.pk, connection_id="sock")
    assert not Station.objects.get(pk=station.pk).is_online
