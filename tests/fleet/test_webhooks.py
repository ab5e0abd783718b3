"""Vehicle sessions reach integrators through apps/webhooks' own mechanism: the fleet app emits
``vehicle.session_started`` / ``vehicle.session_ended`` after the core's session events, the
webhooks app subscribes and writes signed deliveries like for any other event."""

from __future__ import annotations

import pytest

from apps.charging.services import token_create
from apps.core import events
from apps.webhooks import services as webhooks
from apps.webhooks.models import WebhookDelivery
from tests.factories import ChargingSessionFactory
from tests.queued import record_tasks

from .conftest import VIN_A


@pytest.fixture
def queued(monkeypatch):
    ids: list[int] = []
    record_tasks(monkeypatch, "webhooks.deliver", lambda pk: ids.append(pk))
    return ids


def test_vehicle_session_events_become_webhook_deliveries(
    fleet, depot, personas, queued, django_capture_on_commit_callbacks
):
    _the_fleet, _van, card = fleet
    site, station = depot
    hook = webhooks.webhook_create(
        name="fleet system",
        url="https://example.com/fleet",
        events=["vehicle.session_started", "vehicle.session_ended"],
        created_by=personas.owner,
        sites=[site],
    )
    stranger = token_create(uid="NOT-A-FLEET-CARD")
    with django_capture_on_commit_callbacks(execute=True):
        session = ChargingSessionFactory(
            station=station, evse=station.evses.first(), token=card.token, id_token=card.token.uid
        )
        other = ChargingSessionFactory(
            station=station, evse=station.evses.first(), token=stranger, id_token=stranger.uid
        )
        events.emit(events.SESSION_STARTED, session_id=session.pk, station_id=station.pk)
        events.emit(events.SESSION_STARTED, session_id=other.pk, station_id=station.pk)
    with django_capture_on_commit_callbacks(execute=True):
        events.emit(events.SESSION_ENDED, session_id=session.pk, station_id=station.pk)
    deliveries = list(WebhookDelivery.objects.filter(webhook=hook).order_by("pk"))
    assert [d.event for d in deliveries] == ["vehicle.session_started", "vehicle.session_ended"]
    data = deliveries[0].payload["data"]
    assert data["session_id"] == session.pk and data["vehicle"]["vin"] == VIN_A
    assert data["card"] == card.token.uid and data["fleet"]["name"] == "Vans"
    assert queued == [d.pk for d in deliveries]
