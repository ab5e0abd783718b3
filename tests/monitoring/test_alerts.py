"""Offline and faulted stations raise alerts (portal, e-mail to those who asked), cleared on
recovery; the sweep repairs whatever events were missed; uptime per station."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from apps.monitoring.models import Alert
from apps.monitoring.services import (
    AlertClosed,
    alert_acknowledge,
    alert_resolve,
    alert_subscription_set,
    monitoring_sweep,
    port_status_observed,
)
from apps.roles.selectors import UserActor
from apps.stations.models import Evse, Station
from apps.stations.services import evse_set_status, station_connected, station_disconnected
from tests.factories import UserFactory
from tests.portal.factories import make_station


def set_status(station, status, evse_id=1):
    evse = Evse.objects.get(station=station, evse_id=evse_id)
    evse_set_status(evse=evse, status=status, at=timezone.now(), error_code="GroundFailure")


@pytest.fixture
def stations(personas, alpha_sites):
    a1, a2 = alpha_sites
    return (
        make_station(a1, "MON-A1", statuses=("Available", "Available")),
        make_station(a2, "MON-A2", statuses=("Available",)),
    )


def test_faulted_port_raises_an_alert_and_recovery_clears_it(
    stations, django_capture_on_commit_callbacks, sent_alert_mail
):
    station = stations[0]
    with django_capture_on_commit_callbacks(execute=True):
        set_status(station, "Faulted", evse_id=2)
    alert = Alert.objects.get()
    assert (alert.kind, alert.evse.evse_id, alert.is_open) == ("faulted", 2, True)
    assert alert.error_code == "GroundFailure"
    with django_capture_on_commit_callbacks(execute=True):
        set_status(station, "Faulted", evse_id=2)  # reported again: still one alert
        set_status(station, "Available", evse_id=1)  # another port: nothing to clear
    assert Alert.objects.count() == 1 and Alert.objects.get().is_open
    with django_capture_on_commit_callbacks(execute=True):
        set_status(station, "Available", evse_id=2)
    alert.refresh_from_db()
    assert not alert.is_open and alert.cleared_at >= alert.raised_at
    assert [event for _, event in sent_alert_mail] == ["raised", "cleared"]


def test_alert_emails_go_to_subscribers_who_may_see_the_site(
    stations, personas, django_capture_on_commit_callbacks, sent_alert_mail
):
    a1_station, a2_station = stations
    alert_subscription_set(user=personas.owner, kinds=["faulted"], all_sites=True)
    alert_subscription_set(user=personas.delegate, kinds=["faulted", "offline"], all_sites=True)
    alert_subscription_set(user=personas.outsider, kinds=["faulted"], all_sites=True)
    quiet = UserFactory(email="quiet@alpha.test")
    alert_subscription_set(user=quiet, kinds=["offline"], all_sites=True)
    with django_capture_on_commit_callbacks(execute=True):
        set_status(a2_station, "Faulted")
    assert [m.to for m in mail.outbox] == [["owner@alpha.test"]]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        set_status(a1_station, "Faulted")
    assert sorted(m.to[0] for m in mail.outbox) == ["delegate@installer.test", "owner@alpha.test"]
    message = mail.outbox[0]
    assert "MON-A1" in message.subject and "MON-A1" in message.body
    assert f"/stations/{a1_station.pk}/" in message.body


def test_only_chosen_sites_and_no_clear_mail_when_not_wanted(
    stations, personas, alpha_sites, django_capture_on_commit_callbacks, sent_alert_mail
):
    alert_subscription_set(
        user=personas.owner,
        kinds=["faulted"],
        all_sites=False,
        sites=[alpha_sites[1]],
        notify_on_clear=False,
    )
    with django_capture_on_commit_callbacks(execute=True):
        set_status(stations[0], "Faulted")
        set_status(stations[1], "Faulted")
    assert len(mail.outbox) == 1 and "MON-A2" in mail.outbox[0].subject
    with django_capture_on_commit_callbacks(execute=True):
        set_status(stations[1], "Available")
    assert len(mail.outbox) == 1


def test_alert_email_in_the_persons_language(
    stations, personas, django_capture_on_commit_callbacks, sent_alert_mail
):
    personas.owner.language = "fr"
    personas.owner.save(update_fields=["language"])
    alert_subscription_set(user=personas.owner, kinds=["faulted"], all_sites=True)
    with django_capture_on_commit_callbacks(execute=True):
        set_status(stations[0], "Faulted")
    assert "Alerte" in mail.outbox[0].subject


def test_sweep_raises_offline_after_the_grace_period_and_clears_on_return(
    stations, settings, django_capture_on_commit_callbacks, sent_alert_mail
):
    settings.MONITORING_OFFLINE_GRACE_SECONDS = 300
    now = timezone.now()
    gone, brief = stations
    Station.objects.filter(pk=gone.pk).update(
        is_online=False, last_seen_at=now - dt.timedelta(minutes=12)
    )
    Station.objects.filter(pk=brief.pk).update(
        is_online=False, last_seen_at=now - dt.timedelta(minutes=2)
    )
    never = make_station(gone.site, "MON-NEVER", online=False)
    Station.objects.filter(pk=never.pk).update(last_seen_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        result = monitoring_sweep(now=now)
    assert (result.raised, result.cleared) == (1, 0)
    alert = Alert.objects.get()
    assert alert.station_id == gone.pk and alert.kind == "offline"
    assert alert.raised_at == now - dt.timedelta(minutes=12)
    assert alert.duration >= dt.timedelta(minutes=12)
    assert monitoring_sweep(now=now).raised == 0  # idempotent
    # The station comes back: the connection event clears the alert at once.
    with django_capture_on_commit_callbacks(execute=True):
        station_connected(station_id=gone.pk, connection_id="c1", version="1.6")
    alert.refresh_from_db()
    assert not alert.is_open


def test_sweep_repairs_missed_events(stations, django_capture_on_commit_callbacks):
    station = stations[0]
    # A status written without its event (e.g. a crash between commit and handlers).
    Evse.objects.filter(station=station, evse_id=1).update(status="Faulted", error_code="X")
    assert monitoring_sweep().raised == 1
    assert Alert.objects.get().evse.evse_id == 1
    Evse.objects.filter(station=station, evse_id=1).update(status="Available")
    Station.objects.filter(pk=station.pk).update(is_online=True)
    Alert.objects.create(station=station, kind="offline", message="stale")
    result = monitoring_sweep()
    assert result.cleared == 2 and not Alert.objects.filter(cleared_at__isnull=True).exists()


def test_disconnect_alone_raises_nothing(stations, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        station_connected(station_id=stations[0].pk, connection_id="c1", version="1.6")
        station_disconnected(station_id=stations[0].pk)
    assert not Alert.objects.exists()


def test_sweep_task_is_registered_and_scheduled(stations):
    from apps.monitoring.tasks import sweep
    from config.celery import app

    app.loader.import_default_modules()
    app.finalize()
    assert app.conf.beat_schedule["monitoring-sweep"]["args"] == ["monitoring.sweep"]
    assert app.conf.beat_schedule["monitoring-sweep"]["task"] == "core.fan_out"
    Station.objects.filter(pk=stations[0].pk).update(
        is_online=False, last_seen_at=timezone.now() - dt.timedelta(hours=1)
    )
    assert sweep.apply().get() == {"raised": 1, "cleared": 0}


def test_uptime_from_the_connection_history(stations):
    from apps.monitoring.selectors import station_uptime
    from apps.stations.models import StatusChange

    station = stations[0]
    now = timezone.now().replace(microsecond=0)
    Station.objects.filter(pk=station.pk).update(created_at=now - dt.timedelta(days=10))
    station.refresh_from_db()
    for days_ago, status in ((10, "Online"), (5, "Offline"), (4, "Online")):
        StatusChange.objects.create(
            station=station,
            kind="connection",
            status=status,
            occurred_at=now - dt.timedelta(days=days_ago),
        )
    Alert.objects.create(
        station=station,
        kind="faulted",
        raised_at=now - dt.timedelta(days=8),
        cleared_at=now - dt.timedelta(days=6),
    )
    week = station_uptime(stations=[station], start=now - dt.timedelta(days=7), end=now)[station.pk]
    assert week.online == dt.timedelta(days=6)
    assert week.online_percent == round(6 / 7 * 100, 2)
    assert week.faulted == dt.timedelta(days=1) and week.alerts == 1
    # A station added 2 days ago and online since: 100 %, over its own life.
    young = stations[1]
    Station.objects.filter(pk=young.pk).update(created_at=now - dt.timedelta(days=2))
    young.refresh_from_db()
    StatusChange.objects.create(
        station=young, kind="connection", status="Online", occurred_at=now - dt.timedelta(days=2)
    )
    figures = station_uptime(stations=[young], start=now - dt.timedelta(days=30), end=now)
    assert figures[young.pk].online_percent == 100.0


def test_uptime_and_alert_pages(stations, personas, client_for):
    from django.urls import reverse

    Alert.objects.create(station=stations[0], kind="faulted", message="Ground failure")
    now = timezone.now()
    Alert.objects.create(
        station=stations[1],
        kind="offline",
        message="gone",
        raised_at=now - dt.timedelta(hours=1),
        cleared_at=now,
    )
    client = client_for(personas.owner)
    page = client.get(reverse("monitoring:alert_list") + "?is_open=true").content.decode()
    assert "Ground failure" in page and "gone" not in page
    page = client.get(reverse("monitoring:uptime") + "?days=7").content.decode()
    assert "MON-A1" in page and "MON-A2" in page


def test_subscription_page_offers_only_visible_sites(personas, alpha_sites, client_for):
    from django.urls import reverse

    client = client_for(personas.delegate)
    page = client.get(reverse("monitoring:subscription")).content.decode()
    assert "A1 Garage" in page and "A2 Depot" not in page
    response = client.post(
        reverse("monitoring:subscription"),
        {"kinds": ["offline"], "sites": [alpha_sites[1].pk], "notify_on_clear": "on"},
    )
    assert response.status_code == 200  # A2 is not a valid choice for them
    response = client.post(
        reverse("monitoring:subscription"),
        {"kinds": ["offline"], "sites": [alpha_sites[0].pk]},
    )
    assert response.status_code == 302
    subscription = personas.delegate.alert_subscription
    assert subscription.kinds == ["offline"] and not subscription.notify_on_clear
    assert list(subscription.sites.all()) == [alpha_sites[0]]


# --- Severity, acknowledging and resolving ---------------------------------------------------
def test_severity_follows_what_is_out(stations, settings, django_capture_on_commit_callbacks):
    a1_station, a2_station = stations
    with django_capture_on_commit_callbacks(execute=True):
        set_status(a1_station, "Faulted", evse_id=2)
    assert Alert.objects.get().severity == "warning"  # one port out, the other works
    settings.MONITORING_OFFLINE_GRACE_SECONDS = 300
    Station.objects.filter(pk=a2_station.pk).update(
        is_online=False, last_seen_at=timezone.now() - dt.timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        monitoring_sweep()
    assert Alert.objects.get(kind="offline").severity == "critical"
    with django_capture_on_commit_callbacks(execute=True):
        port_status_observed(station_id=a1_station.pk, evse_id=None, status="Faulted")
    whole = Alert.objects.get(kind="faulted", evse__isnull=True)
    assert whole.severity == "critical"  # the station as a whole: nobody can charge


def test_resolving_a_station_still_down_raises_it_again_at_the_next_sweep(
    stations, personas, settings, django_capture_on_commit_callbacks, sent_alert_mail
):
    settings.MONITORING_OFFLINE_GRACE_SECONDS = 300
    station = stations[0]
    Station.objects.filter(pk=station.pk).update(
        is_online=False, last_seen_at=timezone.now() - dt.timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        monitoring_sweep()
    first = Alert.objects.get()
    owner = UserActor(personas.owner)
    with django_capture_on_commit_callbacks(execute=True):
        alert_acknowledge(alert=first, actor=owner, note="On it")
        alert_resolve(alert=first, actor=owner)
    first.refresh_from_db()
    assert (first.acknowledged_by, first.resolved_by, first.note) == (
        "owner@alpha.test",
        "owner@alpha.test",
        "On it",  # a resolution without a note keeps the one given before
    )
    assert not first.is_open
    assert [event for _, event in sent_alert_mail] == ["raised", "cleared"]
    with pytest.raises(AlertClosed):
        alert_resolve(alert=first, actor=owner)
    with django_capture_on_commit_callbacks(execute=True):
        assert monitoring_sweep().raised == 1
    second = Alert.objects.filter(cleared_at__isnull=True).get()
    assert second.pk != first.pk and second.acknowledged_at is None
