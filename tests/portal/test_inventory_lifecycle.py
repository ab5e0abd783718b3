"""Ports and connectors, retiring a station, archiving a site (issue 13, parity): from the
portal and through the API, one service behind both; retired and archived things leave the
lists and keep their history."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from apps.audit.models import AuditEntry
from apps.charging.models import ChargingSession
from apps.stations.models import Connector, Station
from apps.tenants.models import StationIdentity
from tests.api.conftest import api_client, results
from tests.conftest import _tenant


def api(user):
    return api_client(_tenant("alpha"), user=user)


def test_owner_adds_and_edits_ports_and_connectors(network, personas, client_for):
    station = network.a1_station
    client = client_for(personas.owner)
    edit = client.get(reverse("stations:station_edit", args=[station.pk])).content.decode()
    assert reverse("stations:evse_create", args=[station.pk]) in edit
    port = station.evses.get(evse_id=1)
    assert reverse("stations:evse_edit", args=[port.pk]) in edit

    added = client.post(
        reverse("stations:evse_create", args=[station.pk]),
        {"max_current_a": "16", "min_current_a": "6", "phases": "1", "connector_type": "cType1"},
    )
    assert added.status_code == 302
    new_port = station.evses.order_by("-evse_id").first()
    assert (new_port.evse_id, new_port.max_current_a, new_port.phases) == (3, Decimal(16), 1)
    assert new_port.max_power_w == 230 * 16
    assert new_port.connectors.get().connector_type == "cType1"

    saved = client.post(
        reverse("stations:evse_edit", args=[port.pk]),
        {"max_current_a": "40", "min_current_a": "8", "phases": "3", "max_power_w": "27600"},
    )
    assert saved.status_code == 302
    port.refresh_from_db()
    assert (port.max_current_a, port.min_current_a, port.max_power_w) == (40, 8, 27600)

    wrong = client.post(
        reverse("stations:evse_edit", args=[port.pk]),
        {"max_current_a": "10", "min_current_a": "16", "phases": "3", "max_power_w": "7000"},
    )
    assert wrong.status_code == 400
    assert "The minimum current cannot exceed the maximum." in wrong.content.decode()
    port.refresh_from_db()
    assert port.max_current_a == 40

    connector = port.connectors.get()
    plug = client.post(
        reverse("stations:connector_edit", args=[connector.pk]),
        {"connector_type": "cCCS2", "max_power_w": "50000"},
    )
    assert plug.status_code == 302
    connector.refresh_from_db()
    assert (connector.connector_type, connector.max_power_w) == ("cCCS2", 50000)
    bad_plug = client.post(
        reverse("stations:connector_edit", args=[connector.pk]), {"connector_type": "Banana"}
    )
    assert bad_plug.status_code == 400 and "Select a valid choice" in bad_plug.content.decode()
    assert AuditEntry.objects.filter(action="evse.update", source="portal").exists()


def test_the_api_adds_and_edits_ports_and_connectors(network, personas):
    station = network.a1_station
    owner = api(personas.owner)
    created = owner.post(
        "/api/v1/evses/",
        {"station": station.pk, "max_current_a": "32", "min_current_a": "6", "phases": 3},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["evse_id"] == 3 and len(created.json()["connectors"]) == 1
    evse_id = created.json()["id"]
    patched = owner.patch(f"/api/v1/evses/{evse_id}/", {"max_current_a": "20"}, format="json")
    assert patched.status_code == 200 and patched.json()["max_current_a"] == "20.0"
    refused = owner.patch(
        f"/api/v1/evses/{evse_id}/", {"min_current_a": "25"}, format="json"
    )  # above the maximum: the service's check, as in the portal
    assert refused.status_code == 400 and "min_current_a" in refused.json()["error"]["details"]
    connector = Connector.objects.get(evse_id=evse_id)
    plug = owner.patch(
        f"/api/v1/connectors/{connector.pk}/", {"connector_type": "cCCS1"}, format="json"
    )
    assert plug.status_code == 200 and plug.json()["connector_type"] == "cCCS1"
    # The delegate configures A1's stations only.
    delegate = api(personas.delegate)
    other = network.a2_station.evses.first()
    assert (
        delegate.patch(f"/api/v1/evses/{other.pk}/", {"phases": 1}, format="json").status_code
        == 404
    )
    mine = network.a1_station_2.evses.first()
    assert (
        delegate.patch(f"/api/v1/evses/{mine.pk}/", {"phases": 1}, format="json").status_code == 200
    )


def test_a_retired_station_leaves_the_lists_and_keeps_its_history(network, personas, client_for):
    station = network.a1_station
    client = client_for(personas.owner)
    retired = client.post(reverse("stations:station_retire", args=[station.pk]))
    assert retired.status_code == 302
    station.refresh_from_db()
    assert station.retired_at is not None and station.registration_status == "Rejected"
    assert not StationIdentity.objects.filter(identity=station.identity).exists()  # no connect

    listing = client.get(reverse("stations:station_list")).content.decode()
    assert "A1-CHARGER-1" not in listing and "A1-CHARGER-2" in listing
    asked = client.get(reverse("stations:station_list"), {"retired": "true"}).content.decode()
    assert "A1-CHARGER-1" in asked and "A1-CHARGER-2" not in asked
    page = client.get(reverse("stations:station_detail", args=[station.pk]))
    assert page.status_code == 200 and "retired" in page.content.decode()
    assert ChargingSession.objects.filter(station=station).exists()
    session = client.get(reverse("charging:session_detail", args=[network.a1_session.pk]))
    assert session.status_code == 200
    summary = client.get(reverse("dashboard:home")).context["summary"]
    assert summary.stations_total == 2  # A1-CHARGER-2 and A2-CHARGER-1
    # Gone on purpose: the monitoring sweep raises no offline alert for it.
    from datetime import timedelta

    from django.utils import timezone

    from apps.monitoring.models import Alert
    from apps.monitoring.services import monitoring_sweep

    gone = [station.pk, network.a1_station_2.pk]
    Station.objects.filter(pk__in=gone).update(
        is_online=False, last_seen_at=timezone.now() - timedelta(hours=2)
    )
    monitoring_sweep()
    alerted = set(Alert.objects.filter(kind="offline").values_list("station_id", flat=True))
    assert network.a1_station_2.pk in alerted and station.pk not in alerted

    owner = api(personas.owner)
    identities = {row["identity"] for row in results(owner.get("/api/v1/stations/"))}
    assert "A1-CHARGER-1" not in identities and "A2-CHARGER-1" in identities
    only_retired = results(owner.get("/api/v1/stations/", {"retired": "true"}))
    assert [row["identity"] for row in only_retired] == ["A1-CHARGER-1"]
    assert owner.get(f"/api/v1/stations/{station.pk}/").json()["retired_at"] is not None
    # The delegate cannot retire A2's station (not theirs), through either door.
    a2 = network.a2_station
    assert api(personas.delegate).post(f"/api/v1/stations/{a2.pk}/retire/").status_code == 404
    delegate = client_for(personas.delegate)
    assert delegate.post(reverse("stations:station_retire", args=[a2.pk])).status_code == 404
    assert Station.objects.get(pk=a2.pk).retired_at is None
    via_api = owner.post(f"/api/v1/stations/{a2.pk}/retire/")
    assert via_api.status_code == 200 and via_api.json()["registration_status"] == "Rejected"


def test_a_site_is_archived_once_its_stations_are_retired(
    network, personas, client_for, alpha_sites
):
    _, a2 = alpha_sites
    client = client_for(personas.owner)
    refused = client.post(reverse("stations:site_archive", args=[a2.pk]), follow=True)
    assert "Move or retire this site" in refused.content.decode()
    a2.refresh_from_db()
    assert a2.archived_at is None
    owner = api(personas.owner)
    conflict = owner.post(f"/api/v1/sites/{a2.pk}/archive/")
    assert conflict.status_code == 400

    client.post(reverse("stations:station_retire", args=[network.a2_station.pk]))
    assert client.post(reverse("stations:site_archive", args=[a2.pk])).status_code == 302
    a2.refresh_from_db()
    assert a2.archived_at is not None
    sites = client.get(reverse("stations:site_list")).content.decode()
    assert "A2 Depot" not in sites and "A1 Garage" in sites
    assert (
        "A2 Depot"
        in client.get(reverse("stations:site_list"), {"archived": "true"}).content.decode()
    )
    register = client.get(reverse("stations:station_register")).content.decode()
    assert "A2 Depot" not in register  # not a place for new stations
    assert [row["name"] for row in results(owner.get("/api/v1/sites/"))] == ["A1 Garage"]
    assert owner.get(f"/api/v1/sites/{a2.pk}/").status_code == 200  # history kept

    restored = owner.post(f"/api/v1/sites/{a2.pk}/restore/")
    assert restored.status_code == 200 and restored.json()["archived_at"] is None
    assert "A2 Depot" in client.get(reverse("stations:site_list")).content.decode()
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"site.archive", "site.restore", "station.retire"} <= actions
