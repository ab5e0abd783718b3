"""The price on OCPP 2.0.1 stations' displays: what is sent, to whom, and that a station that
refuses or does not answer changes nothing.  (The real path, through an ASGI server and a
Celery worker to a websocket station, is in ``test_price_display_live.py``.)"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.billing import handlers, queue, services
from apps.billing.services import display
from apps.ocpp.commands import CommandRejected, CommandTimeout, validate_action_payload
from apps.stations.services import station_register

from .helpers import at


@pytest.fixture
def tariff(site):
    tariff = services.tariff_create(
        name="Public",
        definition={
            "currency": "CAD",
            "session_fee": "1.00",
            "energy": [{"price_per_kwh": "0.25"}],
            "idle": {"price_per_hour": "6.00", "grace_minutes": 10},
        },
        effective_from=at("2026-01-01 00:00"),
    )
    services.tariff_assign(tariff=tariff, site=site)
    return tariff


def make_station(site, version: str, *, online: bool = True):
    identity = f"DISP-{uuid.uuid4().hex[:10]}"
    station = station_register(identity=identity, password=None, site=site)
    station.ocpp_version, station.is_online = version, online
    station.save(update_fields=["ocpp_version", "is_online"])
    return station


class Sent:
    def __init__(self, answer=None, error: Exception | None = None):
        self.calls: list[tuple[int, str, dict]] = []
        self.answer, self.error = answer or {"status": "Accepted"}, error

    def __call__(self, station, action, payload):
        self.calls.append((station.pk, action, payload))
        if self.error is not None:
            raise self.error
        return self.answer


@pytest.fixture
def warnings_logged(monkeypatch):
    logged: list[str] = []
    monkeypatch.setattr(
        display.logger, "warning", lambda message, *args: logged.append(message % args)
    )
    return logged


def test_a_201_station_gets_the_public_price_in_the_tenants_language(site, tariff, alpha):
    station = make_station(site, "2.0.1")
    sent = Sent()
    assert display.station_price_display_push(station_id=station.pk, send=sent) == "Accepted"
    ((station_id, action, payload),) = sent.calls
    assert (station_id, action) == (station.pk, "SetDisplayMessage")
    validate_action_payload("2.0.1", action, payload)  # the 2.0.1 schema accepts it
    message = payload["message"]
    assert message["id"] == display.PRICE_MESSAGE_ID and message["priority"] == "NormalCycle"
    assert message["message"] == {
        "format": "UTF8",
        "language": "en",
        "content": "Price: 1.00 CAD per session; 0.25 CAD/kWh; idle 6.00 CAD/h after 10 min",
    }

    alpha.language = "fr"
    try:
        display.station_price_display_push(station_id=station.pk, send=sent)
    finally:
        alpha.language = "en"
    french = sent.calls[-1][2]["message"]["message"]
    assert french["language"] == "fr"
    assert french["content"] == (
        "Prix : 1,00 CAD par session; 0,25 CAD/kWh; stationnement 6,00 CAD/h après 10 min"
    )


def test_16_stations_offline_stations_and_pending_stations_are_not_sent_anything(site, tariff):
    sent = Sent()
    old = make_station(site, "1.6")
    offline = make_station(site, "2.0.1", online=False)
    pending = make_station(site, "2.0.1")
    pending.registration_status = "Pending"
    pending.save(update_fields=["registration_status"])
    assert display.station_price_display_push(station_id=old.pk, send=sent) == "skipped"
    assert display.station_price_display_push(station_id=offline.pk, send=sent) == "offline"
    assert display.station_price_display_push(station_id=pending.pk, send=sent) == "skipped"
    assert display.station_price_display_push(station_id=999_999, send=sent) == "skipped"
    assert sent.calls == []


@pytest.mark.parametrize(
    ("sent", "outcome", "logged"),
    [
        (Sent(answer={"status": "Rejected"}), "Rejected", "answered Rejected"),
        (Sent(answer={"status": "NotSupportedPriority"}), "NotSupportedPriority", "answered"),
        (Sent(error=CommandTimeout("no answer")), "failed", "no answer"),
        (Sent(error=CommandRejected("NotImplemented", "no display")), "failed", "NotImplemented"),
    ],
)
def test_a_station_that_refuses_or_does_not_answer_is_logged_not_raised(
    site, tariff, warnings_logged, sent, outcome, logged
):
    station = make_station(site, "2.0.1")
    assert display.station_price_display_push(station_id=station.pk, send=sent) == outcome
    assert len(sent.calls) == 1
    assert len(warnings_logged) == 1 and logged in warnings_logged[0]
    assert station.identity in warnings_logged[0]


@pytest.fixture
def queued(monkeypatch):
    """What would be queued: (station id, eta)."""
    calls: list[tuple[int, object]] = []
    monkeypatch.setattr(
        queue, "enqueue_price_display", lambda pk, eta=None: calls.append((pk, eta))
    )
    return calls


def test_booting_or_connecting_queues_a_push_for_201_stations_only(site, queued):
    new, old = make_station(site, "2.0.1"), make_station(site, "1.6")
    handlers.on_station_online(event="station.booted", station_id=new.pk)
    handlers.on_station_online(event="station.connected", station_id=old.pk)
    assert queued == [(new.pk, None)]


def test_tariff_changes_queue_pushes_to_the_stations_they_touch(
    site, station, tariff, queued, django_capture_on_commit_callbacks
):
    from apps.stations.services import site_create

    here = make_station(site, "2.0.1")
    offline_here = make_station(site, "2.0.1", online=False)
    make_station(site, "1.6")
    elsewhere_site = site_create(name="Elsewhere", timezone="America/Montreal")
    elsewhere = make_station(elsewhere_site, "2.0.1")

    with django_capture_on_commit_callbacks(execute=True):
        services.tariff_assign(tariff=tariff, station=here)
    assert queued == [(here.pk, None)]

    queued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.tax_rate_set(site=site, code="GST", name="GST", rate="0.05")
    assert queued == [(here.pk, None)]  # online 2.0.1 stations of that site only

    queued.clear()
    later = timezone.now() + timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        services.tariff_version_add(
            tariff=tariff,
            definition={"currency": "CAD", "energy": [{"price_per_kwh": "0.30"}]},
            effective_from=later,
        )
    # when the new prices take effect, every 2.0.1 station the tariff covers (online or not)
    assert sorted(queued) == sorted([(here.pk, later), (here.pk, later), (offline_here.pk, later)])

    queued.clear()
    group = services.driver_group_create(name="Staff")
    with django_capture_on_commit_callbacks(execute=True):
        services.tariff_assign(tariff=tariff, site=elsewhere_site, driver_group=group)
    assert queued == []  # the display shows the public price
    with django_capture_on_commit_callbacks(execute=True):
        public = services.tariff_assign(tariff=tariff, site=elsewhere_site)
    assert queued == [(elsewhere.pk, None)]

    queued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.tariff_unassign(assignment=public)
    assert queued == [(elsewhere.pk, None)]
