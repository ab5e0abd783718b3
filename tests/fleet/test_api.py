"""The fleet API: a fleet manager sees only the fleets that name them; bad input is a 400 with
field errors; telemetry; usage per vehicle; the fuel-card file (CSV and XLSX); imports that
report bad rows by line; the signed telematics webhook."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import openpyxl
import pytest

from apps.fleet import services
from apps.fleet.exports import FUEL_CARD_COLUMNS
from apps.fleet.models import TelemetryReading, Vehicle
from tests.api.conftest import api_client
from tests.factories import ChargingSessionFactory

from .conftest import VIN_B

BASE = "/api/v1/fleet"


@pytest.fixture
def api_for(alpha):
    def make(user=None):
        return api_client(alpha, user=user)

    return make


@pytest.fixture
def other_fleet(depot):
    site, _ = depot
    return services.fleet_create(name="Trucks", site=site)


def test_fleet_manager_sees_only_their_fleets(fleet, other_fleet, personas, api_for):
    the_fleet, van, _ = fleet
    manager = api_for(personas.fleet_manager)
    names = [row["name"] for row in manager.get(f"{BASE}/fleets/").json()["results"]]
    assert names == ["Vans"]
    assert manager.get(f"{BASE}/fleets/{other_fleet.pk}/").status_code == 404
    owner_names = [
        row["name"] for row in api_for(personas.owner).get(f"{BASE}/fleets/").json()["results"]
    ]
    assert owner_names == ["Trucks", "Vans"]
    # a vehicle in a fleet they do not manage is refused like one that does not exist
    response = manager.post(
        f"{BASE}/vehicles/",
        {
            "fleet": other_fleet.pk,
            "make": "Volvo",
            "model": "FE",
            "battery_kwh": "200",
            "vin": VIN_B,
        },
        format="json",
    )
    assert response.status_code == 400 and "fleet" in response.json()["error"]["details"]
    # and a fleet manager does not create fleets for the whole site... but manages their own
    response = manager.patch(
        f"{BASE}/fleets/{the_fleet.pk}/", {"description": "city vans"}, format="json"
    )
    assert response.status_code == 200, response.content


def test_bad_vehicle_input_gets_field_errors(fleet, personas, api_for):
    the_fleet, _, _ = fleet
    response = api_for(personas.owner).post(
        f"{BASE}/vehicles/",
        {
            "fleet": the_fleet.pk,
            "make": "",
            "model": "M",
            "battery_kwh": "0",
            "vin": "1M8GDM9A1KP042788",
        },
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()["error"]["details"]
    assert {"make", "battery_kwh", "vin"} <= set(errors)
    response = api_for(personas.owner).post(
        f"{BASE}/vehicles/",
        {
            "fleet": the_fleet.pk,
            "make": "Tesla",
            "model": "3",
            "battery_kwh": "75",
            "vin": VIN_B.lower(),
            "plate": "EV-2",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["vin"] == VIN_B


def test_cards_link_tokens(fleet, personas, api_for):
    the_fleet, van, card = fleet
    api = api_for(personas.owner)
    response = api.post(
        f"{BASE}/cards/",
        {"fleet": the_fleet.pk, "uid": "NEW-CARD", "driver_name": "Ann"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["uid"] == "NEW-CARD" and response.json()["vehicle"] is None
    response = api.post(
        f"{BASE}/cards/",
        {"fleet": the_fleet.pk, "uid": card.token.uid, "vehicle": van.pk},
        format="json",
    )
    assert response.status_code == 400 and "uid" in response.json()["error"]["details"]


def test_telemetry_push_and_usage_and_transactions(fleet, depot, personas, api_for):
    the_fleet, van, card = fleet
    _site, station = depot
    api = api_for(personas.fleet_manager)
    response = api.post(
        f"{BASE}/vehicles/{van.pk}/telemetry/",
        {"recorded_at": "2026-03-02T08:00:00Z", "soc_percent": "35.5"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert (
        api.post(
            f"{BASE}/vehicles/{van.pk}/telemetry/",
            {"recorded_at": "2026-03-02T08:00:00Z"},
            format="json",
        ).status_code
        == 400
    )
    assert api.get(f"{BASE}/vehicles/{van.pk}/").json()["soc_percent"] == "35.5"

    start = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)
    for day in range(2):
        session = ChargingSessionFactory(
            station=station,
            evse=station.evses.first(),
            token=card.token,
            id_token=card.token.uid,
            started_at=start + dt.timedelta(days=day),
            ended_at=start + dt.timedelta(days=day, minutes=45),
            energy_wh=12_345,
        )
        services.vehicle_session_record(session_id=session.pk)
    usage = api.get(f"{BASE}/vehicles/{van.pk}/usage/").json()
    assert usage["sessions"] == 2 and usage["energy_wh"] == 24_690
    assert usage["stations"] == [station.identity]
    one_day = {"start": "2026-03-02T00:00:00Z", "end": "2026-03-03T00:00:00Z"}
    assert api.get(f"{BASE}/vehicles/{van.pk}/usage/", one_day).json()["sessions"] == 1
    bad = api.get(
        f"{BASE}/vehicles/{van.pk}/usage/",
        {"start": "2026-03-03T00:00:00Z", "end": "2026-03-02T00:00:00Z"},
    )
    assert bad.status_code == 400

    response = api.get(f"{BASE}/vehicles/{van.pk}/transactions/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(lines) == 2
    assert tuple(lines[0]) == FUEL_CARD_COLUMNS
    assert lines[0]["quantity"] == "12.345" and lines[0]["unit"] == "kWh"
    assert lines[0]["vehicle_vin"] == van.vin and lines[0]["card_number"] == card.token.uid
    assert lines[0]["date"] == "2026-03-02" and lines[0]["time"] == "09:00:00"  # Montréal
    assert lines[0]["duration_min"] == "45"

    response = api.get(f"{BASE}/fleets/{the_fleet.pk}/transactions/", {"file": "xlsx", **one_day})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0] == FUEL_CARD_COLUMNS and len(rows) == 2
    assert rows[1][FUEL_CARD_COLUMNS.index("quantity")] == pytest.approx(12.345)


def test_exports_and_imports_round_trip(fleet, personas, api_for):
    the_fleet, van, _ = fleet
    api = api_for(personas.owner)
    exported = api.get(f"{BASE}/fleets/{the_fleet.pk}/vehicles-export/").content.decode()
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert rows[0]["vin"] == van.vin and rows[0]["fleet"] == "Vans"
    content = (
        "fleet,vin,make,model,battery_kwh,plate,depot\r\n"
        f"Vans,{van.vin},Ford,E-Transit,70,VAN-1B,\r\n"  # updated
        f"Vans,{VIN_B},Tesla,3,75,EV-2,Depot Nord\r\n"  # created
        "Vans,1M8GDM9A1KP042788,Ford,X,60,,\r\n"  # bad check digit (line 4)
        "Nope,WVWZZZ1KZAW000009,VW,ID.4,77,,\r\n"  # unknown fleet (line 5)
    ).encode()
    upload = io.BytesIO(content)
    upload.name = "vehicles.csv"
    report = api.post(f"{BASE}/vehicles/import/", {"file": upload}, format="multipart").json()
    assert not report["imported"] and report["good"] == 2
    assert {(e["line"], e["field"]) for e in report["errors"]} == {(4, "vin"), (5, "fleet")}
    assert Vehicle.objects.count() == 1
    upload = io.BytesIO(content)
    upload.name = "vehicles.csv"
    report = api.post(
        f"{BASE}/vehicles/import/", {"file": upload, "keep_good": True}, format="multipart"
    ).json()
    assert report["imported"] and report["created"] == 1 and report["updated"] == 1
    van.refresh_from_db()
    assert van.plate == "VAN-1B" and van.battery_kwh == Decimal("70")

    cards = io.BytesIO(
        f"fleet,card,kind,vehicle_vin,driver\r\nVans,C-1,rfid,{VIN_B},\r\nVans,C-2,,,\r\n".encode()
    )
    cards.name = "cards.csv"
    report = api.post(
        f"{BASE}/cards/import/", {"file": cards, "keep_good": True}, format="multipart"
    ).json()
    assert report["created"] == 1 and [e["line"] for e in report["errors"]] == [3]
    exported = api.get(f"{BASE}/fleets/{the_fleet.pk}/cards-export/", {"file": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(exported.content)).active
    assert [row[1] for row in list(sheet.values)[1:]] == ["VAN-1-CARD", "C-1"]


def test_telematics_webhook_receiver(fleet, client_for):
    the_fleet, van, _ = fleet
    body = json.dumps(
        {
            "readings": [
                {
                    "vin": van.vin,
                    "recorded_at": "2026-03-02T08:00:00+01:00",
                    "soc_percent": 80,
                    "odometer_km": 321,
                }
            ]
        }
    ).encode()
    url = f"/fleet/{the_fleet.pk}/telematics/"
    client = client_for()
    signature = services.telematics_signature(the_fleet.telematics_secret, body)
    refused = client.post(
        url, body, content_type="application/json", HTTP_X_FLEET_SIGNATURE="sha256=" + "0" * 64
    )
    assert refused.status_code == 403 and not TelemetryReading.objects.exists()
    unknown = client.post(
        f"/fleet/{the_fleet.pk + 999}/telematics/",
        body,
        content_type="application/json",
        HTTP_X_FLEET_SIGNATURE=signature,
    )
    assert unknown.status_code == 403
    response = client.post(
        url, body, content_type="application/json", HTTP_X_FLEET_SIGNATURE=signature
    )
    assert response.status_code == 200 and response.json() == {"kept": 1}
    van.refresh_from_db()
    assert van.soc_percent == Decimal("80") and van.odometer_km == Decimal("321")
    bad = b'{"readings": [{"vin": "X"}]}'
    response = client.post(
        url,
        bad,
        content_type="application/json",
        HTTP_X_FLEET_SIGNATURE=services.telematics_signature(the_fleet.telematics_secret, bad),
    )
    assert response.status_code == 400 and "readings[0]" in response.json()
