"""Sites, stations, ports, connectors and status history through the API."""

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.audit.models import AuditEntry
from apps.stations.models import Evse, Site, Station
from apps.tenants.models import StationIdentity
from tests.api.conftest import make_station, results


# --- Sites -----------------------------------------------------------------------------------
def test_site_crud_goes_through_services_and_the_audit_log(personas, api_for, alpha_sites):
    owner = api_for(personas.owner)
    created = owner.post(
        "/api/v1/sites/",
        {"name": "Harbour", "city": "Québec", "timezone": "America/Toronto", "latitude": "46.8"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["name"] == "Harbour" and body["station_count"] == 0
    site = Site.objects.get(pk=body["id"])

    changed = owner.patch(f"/api/v1/sites/{site.pk}/", {"city": "Lévis"}, format="json")
    assert changed.status_code == 200 and changed.json()["city"] == "Lévis"

    assert owner.delete(f"/api/v1/sites/{site.pk}/").status_code == 204
    assert not Site.objects.filter(pk=site.pk).exists()

    entries = list(AuditEntry.objects.filter(object_type="stations.site").order_by("id"))
    assert [e.action for e in entries] == ["site.create", "site.update", "site.delete"]
    create, update, delete = entries
    assert create.changes["name"] == "Harbour" and create.site_id is None  # deleted since
    assert update.changes == {"city": ["Québec", "Lévis"]}
    assert delete.object_repr == "Harbour" and delete.object_id == str(site.pk)
    assert {e.source for e in entries} == {"api"}
    assert {e.actor_label for e in entries} == {"owner@alpha.test"}
    assert {e.ip for e in entries} == {"127.0.0.1"}


def test_a_site_with_stations_cannot_be_deleted(personas, api_for, inventory, alpha_sites):
    response = api_for(personas.owner).delete(f"/api/v1/sites/{alpha_sites[0].pk}/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_site_filters(personas, api_for, inventory):
    owner = api_for(personas.owner)
    names = lambda params: [s["name"] for s in results(owner.get("/api/v1/sites/", params))]  # noqa: E731
    assert names({"q": "garage"}) == ["A1 Garage"]
    assert names({"ordering": "-name"}) == ["A2 Depot", "A1 Garage"]
    assert names({"name": "depot"}) == ["A2 Depot"]


# --- Stations --------------------------------------------------------------------------------
def test_station_list_nests_ports_and_connectors(personas, api_for, inventory):
    body = api_for(personas.owner).get("/api/v1/stations/", {"identity": "A1-ST-1"}).json()
    (station,) = body["results"]
    assert station["site_name"] == "A1 Garage"
    assert [e["evse_id"] for e in station["evses"]] == [1, 2]
    assert station["evses"][0]["live_state"] == "available"
    assert station["evses"][0]["connectors"][0]["connector_type"] == "cType2"


def test_station_filters_match_the_portal(personas, api_for, inventory, alpha_sites):
    a1, a2 = alpha_sites
    offline = inventory.a2.stations[1]
    offline.is_online = False
    offline.save()
    Evse.objects.filter(station=inventory.a1.stations[1], evse_id=2).update(status="Charging")
    owner = api_for(personas.owner)

    def identities(**params):
        response = owner.get("/api/v1/stations/", params)
        assert response.status_code == 200, response.content
        return sorted(s["identity"] for s in results(response))

    assert identities(status="charging") == ["A1-ST-2"]
    assert identities(status=["charging", "offline"]) == ["A1-ST-2", "A2-ST-2"]
    assert identities(online="false") == ["A2-ST-2"]
    assert identities(site_id=a2.pk) == ["A2-ST-1", "A2-ST-2"]
    assert identities(site="A1 Garage") == ["A1-ST-1", "A1-ST-2"]
    assert identities(protocol="2.0.1") == []
    assert identities(vendor="acme", firmware="1.2.3", q="A1-ST-1") == ["A1-ST-1"]
    ordered = results(owner.get("/api/v1/stations/", {"ordering": "-identity"}))
    assert [s["identity"] for s in ordered] == ["A2-ST-2", "A2-ST-1", "A1-ST-2", "A1-ST-1"]


def test_a_delegate_cannot_filter_by_a_site_they_do_not_have(personas, api_for, alpha_sites):
    response = api_for(personas.delegate).get("/api/v1/stations/", {"site_id": alpha_sites[1].pk})
    # refused exactly like an id that does not exist: no hint that the site is there
    assert response.status_code == 400
    nowhere = api_for(personas.delegate).get("/api/v1/stations/", {"site_id": 999999})
    assert response.json()["error"]["details"]["site_id"][0].replace(
        str(alpha_sites[1].pk), "X"
    ) == nowhere.json()["error"]["details"]["site_id"][0].replace("999999", "X")


def test_station_create_registers_the_identity_and_hides_the_password(
    personas, api_for, alpha_sites
):
    a1 = alpha_sites[0]
    response = api_for(personas.delegate).post(
        "/api/v1/stations/",
        {
            "identity": "NEW-CP-01",
            "password": "p" * 20,
            "site": a1.pk,
            "evse_count": 2,
            "max_current_a": "16",
            "phases": 1,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["identity"] == "NEW-CP-01" and len(body["evses"]) == 2 and "password" not in body
    assert body["evses"][0]["max_current_a"] == "16.0"
    registry = StationIdentity.objects.get(identity="NEW-CP-01")
    assert registry.tenant_id == connection.tenant.pk and registry.check_password("p" * 20)
    entry = AuditEntry.objects.get(action="station.create")
    assert entry.changes["password"] == "(set)" and "p" * 20 not in str(entry.changes)
    assert entry.site_id == a1.pk and entry.actor_label == "delegate@installer.test"


def test_station_create_refuses_duplicates_and_other_sites(personas, api_for, alpha_sites):
    delegate = api_for(personas.delegate)
    make_station(alpha_sites[0], "TAKEN-1")
    StationIdentity.objects.create(identity="TAKEN-1", tenant_id=connection.tenant.pk)
    taken = delegate.post(
        "/api/v1/stations/", {"identity": "TAKEN-1", "site": alpha_sites[0].pk}, format="json"
    )
    assert taken.status_code == 400 and "identity" in taken.json()["error"]["details"]
    elsewhere = delegate.post(
        "/api/v1/stations/", {"identity": "X-2", "site": alpha_sites[1].pk}, format="json"
    )
    assert elsewhere.status_code == 400 and "site" in elsewhere.json()["error"]["details"]
    unassigned = delegate.post(
        "/api/v1/stations/", {"identity": "X-3", "site": None}, format="json"
    )
    assert unassigned.status_code == 400 and "site" in unassigned.json()["error"]["details"]
    assert not Station.objects.filter(identity__in=["X-2", "X-3"]).exists()


def test_station_update_moves_only_within_scope(personas, api_for, inventory, alpha_sites):
    a1, a2 = alpha_sites
    station = inventory.a1.stations[0]
    delegate = api_for(personas.delegate)
    moved = delegate.patch(f"/api/v1/stations/{station.pk}/", {"site": a2.pk}, format="json")
    assert moved.status_code == 400
    renamed = delegate.patch(
        f"/api/v1/stations/{station.pk}/",
        {"name": "Front door", "heartbeat_interval": 120},
        format="json",
    )
    assert renamed.status_code == 200, renamed.content
    station.refresh_from_db()
    assert (station.name, station.heartbeat_interval, station.site_id) == ("Front door", 120, a1.pk)
    entry = AuditEntry.objects.get(action="station.update")
    assert entry.changes == {
        "name": ["A1-ST-1 name", "Front door"],
        "heartbeat_interval": [300, 120],
    }
    owner = api_for(personas.owner)
    assert (
        owner.patch(f"/api/v1/stations/{station.pk}/", {"site": a2.pk}, format="json").json()[
            "site"
        ]
        == a2.pk
    )


def test_ports_connectors_and_status_history(personas, api_for, inventory):
    owner = api_for(personas.owner)
    station = inventory.a1.stations[0]
    ports = results(owner.get("/api/v1/evses/", {"station": station.identity}))
    assert [(p["station"], p["evse_id"]) for p in ports] == [(station.pk, 1), (station.pk, 2)]
    connectors = results(owner.get("/api/v1/connectors/", {"station_id": station.pk}))
    assert len(connectors) == 2
    history = results(owner.get("/api/v1/status-changes/", {"station_id": station.pk}))
    assert [(h["status"], h["station_identity"], h["evse_number"]) for h in history] == [
        ("Charging", "A1-ST-1", 1)
    ]
    assert results(owner.get("/api/v1/status-changes/", {"occurred_after": "2025-03-02"})) == []
    assert len(results(owner.get("/api/v1/status-changes/", {"occurred_before": "2025-03-01"})))


# --- No N+1: 100 stations cost what 10 cost ------------------------------------------------
def _count(client, path) -> int | None:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, {"page_size": 1000})
    assert response.status_code in (200, 403)
    return len(queries) if response.status_code == 200 else None


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/stations/",
        "/api/v1/sites/",
        "/api/v1/evses/",
        "/api/v1/connectors/",
        "/api/v1/status-changes/",
        "/api/v1/sessions/",
        "/api/v1/meter-values/",
        "/api/v1/ocpp-messages/",
        "/api/v1/audit-log/",
    ],
)
def test_list_query_counts_do_not_grow_with_rows(path, personas, api_for, alpha_sites):
    from apps.charging.models import IdToken
    from tests.api.conftest import fill_site

    token = IdToken.objects.create(uid="QC")
    owner = api_for(personas.owner)
    delegate = api_for(personas.delegate)

    numbers = itertools.count()

    def grow(count: int) -> None:
        for _ in range(count):
            n = next(numbers)
            fill_site(alpha_sites[n % 2], f"QC{n}", personas.owner, token)

    grow(5)  # 10 stations
    small = (_count(owner, path), _count(delegate, path))
    grow(45)  # 100 stations
    assert Station.objects.count() == 100
    large = (_count(owner, path), _count(delegate, path))
    assert small[0] is not None
    assert large == small, f"{path}: {small} queries for 10 stations, {large} for 100"
