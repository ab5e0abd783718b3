"""The access API: groups and their members, rules with their windows (the lock-out asks for
confirmation), holidays, and the explainer ("why was this card refused here now?")."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.access.models import AccessGroup, AccessRule
from apps.charging.models import IdToken
from apps.charging.services import token_create
from apps.stations.services import site_create, station_register
from tests.api.conftest import api_client, results

# Tuesday 5 May 2026, 12:00 in Montréal (UTC-4).
NOON = "2026-05-05T16:00:00Z"


@pytest.fixture
def owner(alpha, personas):
    return api_client(alpha, user=personas.owner)


@pytest.fixture
def quay(alpha):
    site = site_create(name="Quay", timezone="America/Montreal")
    station = station_register(identity="ACC-API-1", password=None, site=site, evse_count=2)
    token_create(uid="STAFF-1")
    token_create(uid="VISITOR-1")
    return site, station


def test_groups_and_their_members(owner, quay):
    created = owner.post("/api/v1/access/groups/", {"name": "Staff"}, format="json")
    assert created.status_code == 201, created.content
    group = created.json()["id"]
    url = f"/api/v1/access/groups/{group}/members/"
    changed = owner.post(url, {"add": ["STAFF-1", "VISITOR-1"]}, format="json")
    assert changed.status_code == 200 and changed.json()["members"] == 2
    changed = owner.post(url, {"remove": ["VISITOR-1"]}, format="json")
    assert changed.json()["members"] == 1
    assert [row["uid"] for row in results(owner.get(url))] == ["STAFF-1"]
    # one unknown uid: nothing changes, the unknown one is named
    refused = owner.post(url, {"add": ["VISITOR-1", "NOBODY-9"]}, format="json")
    assert refused.status_code == 400
    assert "NOBODY-9" in str(refused.json()["error"]["details"]["tokens"])
    assert AccessGroup.objects.get(pk=group).tokens.count() == 1
    assert owner.post(url, {}, format="json").status_code == 400
    # which groups is a token in?
    listed = results(owner.get("/api/v1/access/groups/", {"token_uid": "staff-1"}))
    assert [row["id"] for row in listed] == [group]


def test_rules_with_windows_lockout_and_field_errors(owner, quay):
    site, station = quay
    group = AccessGroup.objects.create(name="Night shift")
    evenings = {
        "name": "evenings",
        "kind": "public",
        "site": site.pk,
        "windows": [{"weekday": day, "start": "18:00", "end": "07:00"} for day in range(5)],
        "holidays": "skip",
    }
    created = owner.post("/api/v1/access/rules/", evenings, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["level"] == "site" and body["site"] == site.pk and len(body["windows"]) == 5
    assert body["windows"][0] == {"weekday": 0, "start": "18:00:00", "end": "07:00:00"}

    # a members rule naming only an empty group, alone on the station: nobody could charge
    closed = {"name": "night", "kind": "members", "station": station.pk, "groups": [group.pk]}
    refused = owner.post("/api/v1/access/rules/", closed, format="json")
    assert refused.status_code == 400
    assert "confirm_lockout" in refused.json()["error"]["details"]
    assert not AccessRule.objects.filter(name="night").exists()
    confirmed = owner.post(
        "/api/v1/access/rules/", {**closed, "confirm_lockout": True}, format="json"
    )
    assert confirmed.status_code == 201 and confirmed.json()["level"] == "station"

    # bad input: field errors
    for bad, field in [
        ({**evenings, "site": None}, "site"),
        ({**evenings, "station": station.pk}, "site"),
        ({**evenings, "kind": "members"}, "groups"),
        ({**evenings, "windows": [{"weekday": 7, "start": "18:00", "end": "07:00"}]}, "windows"),
        ({**evenings, "date_from": "2026-06-02", "date_to": "2026-06-01"}, "date_to"),
    ]:
        answer = owner.post("/api/v1/access/rules/", bad, format="json")
        assert answer.status_code == 400, (bad, answer.content)
        assert field in answer.json()["error"]["details"], (field, answer.json())

    # PUT replaces the windows
    rule = body["id"]
    updated = owner.put(
        f"/api/v1/access/rules/{rule}/",
        {
            "name": "weekends",
            "kind": "public",
            "windows": [{"weekday": 5, "start": "00:00", "end": "00:00"}],
        },
        format="json",
    )
    assert updated.status_code == 200, updated.content
    assert updated.json()["windows"] == [{"weekday": 5, "start": "00:00:00", "end": "00:00:00"}]
    assert updated.json()["holidays"] == "as_usual"


def test_holidays_of_a_site_and_of_every_site(owner, quay):
    site, _ = quay
    one = owner.post(
        "/api/v1/access/holidays/", {"date": "2026-07-01", "name": "Canada Day"}, format="json"
    )
    assert one.status_code == 201 and one.json()["site"] is None
    here = owner.post(
        "/api/v1/access/holidays/",
        {"date": "2026-06-24", "name": "Saint-Jean", "site": site.pk},
        format="json",
    )
    assert here.status_code == 201 and here.json()["site"] == site.pk
    again = owner.post(
        "/api/v1/access/holidays/", {"date": "2026-07-01", "name": "twice"}, format="json"
    )
    assert again.status_code == 400


def test_the_explainer_says_why_a_card_is_refused_here_and_when_it_would_not_be(owner, quay):
    site, station = quay
    staff = AccessGroup.objects.create(name="Staff")
    staff.tokens.add(*IdToken.objects.filter(uid="STAFF-1"))
    for rule in (
        {"name": "staff", "kind": "members", "site": site.pk, "groups": [staff.pk]},
        {
            "name": "evenings",
            "kind": "public",
            "site": site.pk,
            "windows": [{"weekday": d, "start": "18:00", "end": "07:00"} for d in range(5)],
        },
    ):
        assert owner.post("/api/v1/access/rules/", rule, format="json").status_code == 201
    url = f"/api/v1/access/stations/{station.pk}/explain/"

    noon = owner.get(url, {"token": "VISITOR-1", "at": NOON}).json()
    assert noon["answer"] == "NotAtThisTime" and noon["token_status"] == "Accepted"
    assert noon["rules_decide"] and not noon["rules_allow"] and noon["level"] == "site"
    assert noon["local_time"].startswith("2026-05-05T12:00:00-04:00")
    assert any("“evenings”" in step and "not in force" in step for step in noon["steps"])

    evening = dt.datetime(2026, 5, 5, 23, 30, tzinfo=dt.UTC).isoformat()  # 19:30 local
    later = owner.get(url, {"token": "VISITOR-1", "at": evening}).json()
    assert later["answer"] == "Accepted" and later["rule"] is not None

    staff_noon = owner.get(url, {"token": "STAFF-1", "at": NOON}).json()
    assert staff_noon["answer"] == "Accepted"
    unknown = owner.get(url, {"token": "NOBODY", "at": NOON}).json()
    assert unknown["answer"] == "Invalid" and unknown["token_known"] is False
    assert owner.get(url, {"at": "not a time"}).status_code == 400


def test_a_stations_local_list_read_and_sent_now(owner, quay):
    _, station = quay
    url = f"/api/v1/access/stations/{station.pk}/local-list/"
    never = owner.get(url).json()
    assert never["version"] == 0 and never["entries"] == 0
    sent = owner.post(url)  # the station has never connected: the list waits for it
    assert sent.status_code == 200 and sent.json()["state"] == "behind"
    assert sent.json()["message"] == "offline"
