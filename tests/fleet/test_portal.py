"""The fleet pages: what each persona sees (a fleet manager only their fleets, an outsider
nothing), the forms that write through the services, French, and the exports."""

from __future__ import annotations

import csv
import gettext
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from apps.fleet import services
from apps.fleet.models import FleetCard, Vehicle
from tests.portal.test_i18n import read_po

from .conftest import VIN_B

LOCALE = Path(settings.BASE_DIR) / "apps" / "fleet" / "locale" / "fr" / "LC_MESSAGES"


@pytest.fixture
def other_fleet(depot):
    site, _ = depot
    fleet = services.fleet_create(name="Trucks", site=site)
    services.card_create(fleet=fleet, uid="TRUCK-CARD", driver_name="Bob")
    return fleet


PAGES = ["fleet:fleet_list", "fleet:vehicle_list", "fleet:card_list", "fleet:usage_list"]


@pytest.mark.parametrize("name", PAGES)
def test_lists_show_a_manager_only_their_fleets(name, fleet, other_fleet, personas, client_for):
    manager = client_for(personas.fleet_manager).get(reverse(name))
    assert manager.status_code == 200
    assert b"Trucks" not in manager.content and b"TRUCK-CARD" not in manager.content
    owner = client_for(personas.owner).get(reverse(name))
    assert owner.status_code == 200
    if name in ("fleet:fleet_list", "fleet:card_list"):
        assert b"Trucks" in owner.content
    assert client_for(personas.outsider).get(reverse(name)).status_code == 403
    assert client_for(personas.delegate).get(reverse(name)).status_code == 403


def test_details_and_forms(fleet, other_fleet, personas, client_for):
    the_fleet, van, _ = fleet
    manager = client_for(personas.fleet_manager)
    assert manager.get(reverse("fleet:fleet_detail", args=[other_fleet.pk])).status_code == 404
    page = manager.get(reverse("fleet:fleet_detail", args=[the_fleet.pk]))
    assert page.status_code == 200 and van.vin.encode() in page.content
    assert b"/telematics/" in page.content
    response = manager.post(
        reverse("fleet:vehicle_create", args=[the_fleet.pk]),
        {
            "fleet": the_fleet.pk,
            "make": "Tesla",
            "model": "3",
            "battery_kwh": "75",
            "vin": VIN_B.lower(),
            "plate": "EV-2",
            "is_active": "on",
        },
    )
    vehicle = Vehicle.objects.get(vin=VIN_B)
    assert response.status_code == 302 and response["Location"].endswith(f"/{vehicle.pk}/")
    bad = manager.post(
        reverse("fleet:vehicle_create", args=[the_fleet.pk]),
        {
            "fleet": the_fleet.pk,
            "make": "X",
            "model": "Y",
            "battery_kwh": "75",
            "vin": "1M8GDM9A1KP042788",
        },
        follow=True,
    )
    assert "check digit" in bad.content.decode()
    # another fleet's forms are 404 for this manager
    response = manager.post(
        reverse("fleet:card_create", args=[other_fleet.pk]), {"uid": "X", "driver_name": "Z"}
    )
    assert response.status_code == 404
    response = manager.post(
        reverse("fleet:card_create", args=[the_fleet.pk]),
        {"uid": "NEW-1", "kind": "rfid", "vehicle": vehicle.pk},
    )
    assert response.status_code == 302 and FleetCard.objects.filter(token__uid="NEW-1").exists()
    detail = manager.get(reverse("fleet:vehicle_detail", args=[vehicle.pk]))
    assert detail.status_code == 200 and b"NEW-1" in detail.content
    # only those who see every fleet create fleets
    assert manager.post(reverse("fleet:fleet_create"), {}).status_code == 403


def test_french_pages(fleet, personas, client_for):
    the_fleet, van, _ = fleet
    client = client_for(personas.owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    page = client.get(reverse("fleet:vehicle_detail", args=[van.pk])).content.decode()
    assert "Utilisation" in page and "Télémétrie" in page and "Batterie (kWh)" in page
    page = client.get(reverse("fleet:fleet_list")).content.decode()
    assert "Flottes" in page and "Nouvelle flotte" in page


def test_portal_exports(fleet, personas, client_for):
    the_fleet, van, _ = fleet
    client = client_for(personas.fleet_manager)
    response = client.get(reverse("fleet:export", args=["vehicles"]))
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["vin"] for row in rows] == [van.vin]
    response = client.get(reverse("fleet:transactions"), {"fleet": the_fleet.pk, "file": "xlsx"})
    assert response.status_code == 200 and response.content[:2] == b"PK"


def test_every_fleet_message_is_translated_and_compiled():
    entries = read_po(LOCALE / "django.po")
    assert len(entries) > 100
    with open(LOCALE / "django.mo", "rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    for entry in entries:
        if "msgid_plural" in entry:
            assert entry["msgstr[0]"] and entry["msgstr[1]"], entry["msgid"]
        else:
            assert entry["msgstr"], entry["msgid"]
            assert catalogue.gettext(entry["msgid"]) == entry["msgstr"], entry["msgid"]
