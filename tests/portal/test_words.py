"""Words, not codes (issue 13): an alert says what the station said ("RCD tripped"), or its
error code in the reader's words; the status history speaks the reader's language."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone, translation

from apps.monitoring.models import Alert
from apps.stations.services import status_record
from tests.portal.factories import make_station


def test_a_fault_alert_keeps_the_stations_words(
    personas, client_for, alpha_sites, settings, django_capture_on_commit_callbacks
):
    a1, _ = alpha_sites
    station = make_station(a1, "WORDS-1", statuses=("Available", "Available"))
    with django_capture_on_commit_callbacks(execute=True):  # events are delivered on commit
        status_record(
            station_id=station.pk,
            evse_id=1,
            status="Faulted",
            occurred_at=timezone.now(),
            error_code="GroundFailure",
            info="RCD tripped",
        )
        status_record(
            station_id=station.pk,
            evse_id=2,
            status="Faulted",
            occurred_at=timezone.now(),
            error_code="GroundFailure",
        )
    said, coded = Alert.objects.filter(station=station).order_by("evse__evse_id")
    assert said.message == "RCD tripped" and said.details == "RCD tripped"
    assert coded.details == "Ground fault (the RCD tripped)"
    client = client_for(personas.owner)
    page = client.get(reverse("monitoring:alert_list")).content.decode()
    assert "RCD tripped" in page and "Ground fault (the RCD tripped)" in page
    assert "GroundFailure" not in page
    detail = client.get(reverse("stations:station_detail", args=[station.pk])).content.decode()
    assert "GroundFailure" not in detail
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    french = client.get(reverse("monitoring:alert_detail", args=[coded.pk])).content.decode()
    assert "Défaut de terre (le différentiel a déclenché)" in french
    translation.deactivate()


def test_the_status_history_speaks_words(personas, client_for, alpha_sites, settings):
    from apps.stations.services import station_connected

    a1, _ = alpha_sites
    station = make_station(a1, "WORDS-2", online=False)
    station_connected(station_id=station.pk, connection_id="c1", version="1.6")
    status_record(
        station_id=station.pk, evse_id=1, status="SuspendedEV", occurred_at=timezone.now()
    )
    client = client_for(personas.owner)
    page = client.get(reverse("stations:station_detail", args=[station.pk])).content.decode()
    history = page.split("status-history", 1)[-1] if "status-history" in page else page
    assert "Suspended by vehicle" in history and "Connected" in history
    assert "<td>SuspendedEV</td>" not in page and "<td>Online</td>" not in page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    french = client.get(reverse("stations:station_detail", args=[station.pk])).content.decode()
    assert "Connectée" in french
    translation.deactivate()
