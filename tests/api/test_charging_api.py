"""Sessions, meter values and tokens through the API."""

import datetime as dt
from decimal import Decimal

from apps.audit.models import AuditEntry
from apps.charging.models import IdToken, MeterValue
from tests.api.conftest import T0, results


def test_sessions_with_their_meter_values(personas, api_for, inventory):
    owner = api_for(personas.owner)
    session = inventory.a1.objects["session"]
    body = owner.get(f"/api/v1/sessions/{session.pk}/").json()
    assert body["station_identity"] == "A1-ST-1" and body["energy_wh"] == 7000
    assert body["duration_seconds"] == 3600 and body["site"] == inventory.a1.site.pk
    MeterValue.objects.create(
        station=session.station,
        evse_id=1,
        session=session,
        timestamp=T0 + dt.timedelta(minutes=5),
        measurand="Power.Active.Import",
        unit="W",
        value=Decimal("7200"),
    )
    values = results(owner.get(f"/api/v1/sessions/{session.pk}/meter-values/"))
    assert [(v["measurand"], v["value"]) for v in values] == [
        ("Power.Active.Import", "7200.0000"),
        ("Energy.Active.Import.Register", "2500.0000"),
    ]


def test_session_filters(personas, api_for, inventory, alpha_sites):
    owner = api_for(personas.owner)

    def ids(**params):
        response = owner.get("/api/v1/sessions/", params)
        assert response.status_code == 200, response.content
        return {row["station_identity"] for row in results(response)}

    assert ids() == {"A1-ST-1", "A2-ST-1"}
    assert ids(site_id=alpha_sites[1].pk) == {"A2-ST-1"}
    assert ids(station="A1-ST-1") == {"A1-ST-1"}
    assert ids(started_after="2025-03-01", started_before="2025-03-01") == {"A1-ST-1", "A2-ST-1"}
    assert ids(started_after="2025-03-02") == set()
    assert ids(started_before="2025-03-01T07:59:00+00:00") == set()
    assert ids(token="alpha-token-1", status="completed") == {"A1-ST-1", "A2-ST-1"}
    assert ids(driver="alpha driver", min_energy_wh=7000) == {"A1-ST-1", "A2-ST-1"}
    assert ids(status="active") == set()
    values = results(owner.get("/api/v1/meter-values/", {"station": "A2-ST-1"}))
    assert len(values) == 1 and values[0]["station"] == inventory.a2.stations[0].pk


def test_token_crud_is_audited(personas, api_for):
    owner = api_for(personas.owner)
    created = owner.post("/api/v1/tokens/", {"uid": "04A1B2C3", "label": "Van 12"}, format="json")
    assert created.status_code == 201, created.content
    token_id = created.json()["id"]
    assert created.json()["token_type"] == "ISO14443"
    duplicate = owner.post("/api/v1/tokens/", {"uid": "04A1B2C3"}, format="json")
    assert duplicate.status_code == 400
    blocked = owner.patch(f"/api/v1/tokens/{token_id}/", {"is_active": False}, format="json")
    assert blocked.status_code == 200 and blocked.json()["is_active"] is False
    assert results(owner.get("/api/v1/tokens/", {"is_active": "false"}))[0]["uid"] == "04A1B2C3"
    assert owner.delete(f"/api/v1/tokens/{token_id}/").status_code == 204
    assert not IdToken.objects.filter(pk=token_id).exists()
    entries = AuditEntry.objects.filter(object_type="charging.idtoken").order_by("id")
    assert [(e.action, e.site_id) for e in entries] == [
        ("token.create", None),
        ("token.update", None),
        ("token.delete", None),
    ]
    assert entries[1].changes == {"is_active": [True, False]}
