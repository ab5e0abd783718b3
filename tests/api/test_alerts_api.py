"""``/api/v1/alerts/``: the portal's alerts as an API — filters, bad input, and acknowledging
and resolving (who may, what it records, what it announces)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.audit.models import AuditEntry
from apps.monitoring.models import Alert
from apps.monitoring.services import alert_raise
from apps.roles.services import api_key_create
from apps.stations.models import Evse
from apps.webhooks.models import Webhook, WebhookDelivery
from tests.api.conftest import T0, make_station, results

URL = "/api/v1/alerts/"


@pytest.fixture
def alerts(alpha_sites):
    """On A1: an open offline alert (critical), an open faulted port (warning), a closed
    faulted port.  On A2: an open offline alert."""
    a1, a2 = alpha_sites
    s1, s2, s3 = (make_station(a1, f"AL-A1-{n}") for n in (1, 2, 3))
    far = make_station(a2, "AL-A2-1")
    port = Evse.objects.get(station=s2, evse_id=2)
    made = {
        "offline": alert_raise(station_id=s1.pk, kind="offline", at=T0),
        "faulted": alert_raise(
            station_id=s2.pk, kind="faulted", evse=port, error_code="GroundFailure", at=T0
        ),
        "closed": Alert.objects.create(
            station=s3,
            evse=Evse.objects.get(station=s3, evse_id=1),
            kind="faulted",
            severity="warning",
            raised_at=T0 - dt.timedelta(days=2),
            cleared_at=T0 - dt.timedelta(days=1),
        ),
        "far": alert_raise(station_id=far.pk, kind="offline", at=T0 + dt.timedelta(hours=1)),
    }
    return made


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in results(response)}


def test_an_alert_reads_like_the_portal_shows_it(alerts, personas, api_for):
    response = api_for(personas.owner).get(f"{URL}{alerts['faulted'].pk}/")
    assert response.status_code == 200, response.content
    body = response.json()
    station = alerts["faulted"].station
    assert {k: body[k] for k in ("kind", "severity", "station", "station_identity", "evse_id")} == {
        "kind": "faulted",
        "severity": "warning",
        "station": station.pk,
        "station_identity": "AL-A1-2",
        "evse_id": 2,
    }
    assert body["site"] == station.site_id and body["error_code"] == "GroundFailure"
    assert body["is_open"] is True and body["cleared_at"] is None
    assert body["acknowledged_at"] is None and body["acknowledged_by"] == ""
    # an offline station is critical; newest first (then the later raised)
    rows = results(api_for(personas.owner).get(URL))
    assert [row["id"] for row in rows] == [
        alerts[name].pk for name in ("far", "faulted", "offline", "closed")
    ]
    assert rows[2]["severity"] == "critical" and rows[2]["evse_id"] is None


def test_filters(alerts, personas, api_for, alpha_sites):
    client = api_for(personas.owner)
    a1, a2 = alpha_sites
    pk = {name: alert.pk for name, alert in alerts.items()}
    assert ids(client.get(URL, {"is_open": "true"})) == {pk["offline"], pk["faulted"], pk["far"]}
    assert ids(client.get(URL, {"is_open": "false"})) == {pk["closed"]}
    assert ids(client.get(URL, {"severity": "critical"})) == {pk["offline"], pk["far"]}
    assert ids(client.get(URL, {"severity": ["critical", "warning"], "is_open": "true"})) == {
        pk["offline"],
        pk["faulted"],
        pk["far"],
    }
    assert ids(client.get(URL, {"site_id": a2.pk})) == {pk["far"]}
    assert ids(client.get(URL, {"site": "A1 Garage"})) == {
        pk["offline"],
        pk["faulted"],
        pk["closed"],
    }
    assert ids(client.get(URL, {"station_id": alerts["faulted"].station_id})) == {pk["faulted"]}
    assert ids(client.get(URL, {"station": "AL-A1-1"})) == {pk["offline"]}
    assert ids(client.get(URL, {"kind": "faulted", "is_open": "true"})) == {pk["faulted"]}
    assert ids(client.get(URL, {"raised_after": "2025-03-01T08:30:00Z"})) == {pk["far"]}
    alerts["faulted"].acknowledged_at = T0
    alerts["faulted"].save()
    assert ids(client.get(URL, {"is_acknowledged": "true"})) == {pk["faulted"]}
    assert pk["faulted"] not in ids(client.get(URL, {"is_acknowledged": "false"}))
    ordered = results(client.get(URL, {"ordering": "severity,station"}))
    assert [row["severity"] for row in ordered][:2] == ["critical", "critical"]


def test_a_delegate_sees_only_the_alerts_of_their_site(alerts, personas, api_for):
    client = api_for(personas.delegate)
    assert ids(client.get(URL)) == {alerts[n].pk for n in ("offline", "faulted", "closed")}
    assert client.get(f"{URL}{alerts['far'].pk}/").status_code == 404
    # a site outside the scope is refused like one that does not exist
    refused = client.get(URL, {"site_id": alerts["far"].station.site_id})
    assert refused.status_code == 400
    assert "site_id" in refused.json()["error"]["details"]


@pytest.mark.parametrize(
    "query,field",
    [
        ({"severity": "apocalyptic"}, "severity"),
        ({"kind": "sad"}, "kind"),
        ({"station_id": "abc"}, "station_id"),
        ({"site_id": "999999"}, "site_id"),
        ({"raised_after": "yesterday"}, "raised_after"),
        ({"ordering": "password"}, "ordering"),
    ],
)
def test_bad_filters_are_refused_with_the_field(alerts, personas, api_for, query, field):
    response = api_for(personas.owner).get(URL, query)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["details"]


def test_acknowledge_then_resolve(alerts, personas, api_for):
    alert = alerts["faulted"]
    hook = Webhook.objects.create(
        name="ops",
        url="https://example.com/hook",
        secret="s",
        events=["alert.cleared"],
        created_by=personas.owner,
    )
    client = api_for(personas.owner)
    response = client.post(
        f"{URL}{alert.pk}/acknowledge/", {"note": "Technician on the way"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["acknowledged_by"] == "owner@alpha.test" and body["acknowledged_at"]
    assert body["note"] == "Technician on the way" and body["is_open"] is True

    # Acknowledging again (here with a key) keeps the first acknowledgement.
    _, key = api_key_create(
        name="ops", created_by=personas.owner, permissions=["alerts.manage"], all_sites=True
    )
    again = api_for(key=key).post(f"{URL}{alert.pk}/acknowledge/", {}, format="json")
    assert again.status_code == 200, again.content
    assert again.json()["acknowledged_at"] == body["acknowledged_at"]
    assert again.json()["acknowledged_by"] == "owner@alpha.test"

    resolved = api_for(key=key).post(
        f"{URL}{alert.pk}/resolve/", {"note": "Breaker reset"}, format="json"
    )
    assert resolved.status_code == 200, resolved.content
    body = resolved.json()
    assert body["is_open"] is False and body["cleared_at"] and body["note"] == "Breaker reset"
    assert body["resolved_by"].startswith("api key ")  # the key, as the audit log names it
    alert.refresh_from_db()
    assert not alert.is_open and alert.cleared_at >= alert.raised_at
    # announced like any clear
    delivery = WebhookDelivery.objects.get(webhook=hook)
    assert delivery.event == "alert.cleared"
    assert delivery.payload["data"]["id"] == alert.pk
    assert delivery.payload["data"]["resolved_by"] == body["resolved_by"]

    # A closed alert can be neither resolved nor acknowledged again.
    for verb in ("resolve", "acknowledge"):
        conflict = client.post(f"{URL}{alert.pk}/{verb}/", {}, format="json")
        assert conflict.status_code == 409, conflict.content
        assert conflict.json()["error"]["code"] == "conflict"
    actions = list(
        AuditEntry.objects.filter(object_type="monitoring.alert")
        .order_by("id")
        .values_list("action", "succeeded")
    )
    assert actions == [
        ("alert.acknowledge", True),
        ("alert.acknowledge", True),
        ("alert.resolve", True),
    ]
    entry = AuditEntry.objects.filter(action="alert.resolve").get()
    assert entry.changes == {"note": "Breaker reset"} and entry.site_id == alert.station.site_id


def test_a_note_too_long_is_refused_before_anything_changes(alerts, personas, api_for):
    alert = alerts["offline"]
    response = api_for(personas.owner).post(
        f"{URL}{alert.pk}/resolve/", {"note": "x" * 501}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "note" in response.json()["error"]["details"]
    alert.refresh_from_db()
    assert alert.is_open and alert.resolved_by == ""
    not_text = api_for(personas.owner).post(
        f"{URL}{alert.pk}/acknowledge/", {"note": {"a": 1}}, format="json"
    )
    assert not_text.status_code == 400 and "note" in not_text.json()["error"]["details"]
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_who_may_acknowledge_and_resolve(alerts, personas, api_for, alpha_sites):
    a1 = alpha_sites[0]
    near, far = alerts["offline"], alerts["far"]
    # The fleet manager sees the alerts but holds no alerts.manage (the delegate does: roles
    # migration 0004).
    fleet = api_for(personas.fleet_manager)
    assert fleet.post(f"{URL}{near.pk}/acknowledge/", {}, format="json").status_code == 403
    # A read-only key: 403; a key for alerts on A1 only: A1's alert yes, A2's is not there.
    _, viewer = api_key_create(
        name="view", created_by=personas.owner, permissions=["stations.view"], all_sites=True
    )
    assert (
        api_for(key=viewer).post(f"{URL}{near.pk}/resolve/", {}, format="json").status_code == 403
    )
    _, a1_key = api_key_create(
        name="a1 ops", created_by=personas.owner, permissions=["alerts.manage"], sites=[a1]
    )
    client = api_for(key=a1_key)
    assert client.post(f"{URL}{far.pk}/resolve/", {}, format="json").status_code == 404
    assert client.post(f"{URL}{near.pk}/resolve/", {}, format="json").status_code == 200
    far.refresh_from_db()
    near.refresh_from_db()
    assert far.is_open and not near.is_open


def test_the_list_does_not_query_per_row(personas, api_for, alpha_sites):
    client = api_for(personas.owner)

    def queries(count: int) -> int:
        for n in range(count):
            station = make_station(alpha_sites[n % 2], f"QC-{count}-{n}", evses=1)
            alert_raise(
                station_id=station.pk,
                kind="faulted",
                evse=station.evses.get(),
                at=T0,
            )
        with CaptureQueriesContext(connection) as captured:
            response = client.get(URL, {"page_size": 1000})
        assert response.status_code == 200
        return len(captured)

    few = queries(3)
    many = queries(30)
    assert many == few
