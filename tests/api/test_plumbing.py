"""Authentication (API keys, session + CSRF), the error format, pagination, ``/me/``."""

import datetime as dt

import pytest
from django.utils import timezone
from django.utils.crypto import get_random_string

from apps.roles.models import ApiKey
from apps.roles.services import api_key_create, api_key_revoke
from tests.api.conftest import api_client, results


@pytest.fixture
def key(personas):
    return api_key_create(
        name="BMS", created_by=personas.owner, permissions=["sites.view"], all_sites=True
    )


def test_api_key_authenticates_as_the_key_not_its_creator(key, api_for, alpha_sites):
    _, raw = key
    response = api_for(key=raw).get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json() == {
        "kind": "api_key",
        "label": f"api key {key[0].prefix}",
        "permissions": {"sites.view": "all"},
    }
    # the key holds sites.view only, although its creator holds everything
    assert api_for(key=raw).get("/api/v1/stations/").status_code == 403
    assert len(results(api_for(key=raw).get("/api/v1/sites/"))) == 2


def test_last_used_is_recorded_at_most_once_a_minute(key, api_for, django_assert_num_queries):
    api_key, raw = key
    assert api_key.last_used_at is None
    client = api_for(key=raw)
    client.get("/api/v1/me/")
    first = ApiKey.objects.get(pk=api_key.pk).last_used_at
    assert first is not None
    client.get("/api/v1/me/")
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at == first  # no write this time
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=first - dt.timedelta(minutes=2))
    client.get("/api/v1/me/")
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at > first


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer cg_nope_nope", "Bearer a b", "Bearer cg_only"],
)
def test_bad_keys_are_refused_with_401(header, personas, alpha):
    client = api_client(alpha)
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/sites/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_revoked_expired_and_orphaned_keys_stop_working(key, api_for, personas):
    api_key, raw = key
    assert api_for(key=raw).get("/api/v1/sites/").status_code == 200
    api_key_revoke(key=api_key)
    assert api_for(key=raw).get("/api/v1/sites/").status_code == 401

    _, expired = api_key_create(
        name="old",
        created_by=personas.owner,
        permissions=["sites.view"],
        all_sites=True,
        expires_at=timezone.now() - dt.timedelta(seconds=1),
    )
    assert api_for(key=expired).get("/api/v1/sites/").status_code == 401

    _, of_leaver = api_key_create(
        name="leaver", created_by=personas.fleet_manager, permissions=["sites.view"], all_sites=True
    )
    assert api_for(key=of_leaver).get("/api/v1/sites/").status_code == 200
    personas.fleet_manager.is_active = False
    personas.fleet_manager.save()
    assert api_for(key=of_leaver).get("/api/v1/sites/").status_code == 401


def test_session_writes_need_the_csrf_token(personas, alpha):
    client = api_client(alpha, user=personas.owner, csrf=True)
    assert client.get("/api/v1/sites/").status_code == 200  # reads need no token
    refused = client.post("/api/v1/sites/", {"name": "No token"}, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["error"]["message"]
    token = get_random_string(32)  # what the portal's pages put in the CSRF cookie
    client.cookies["chargegrid_csrftoken"] = token
    accepted = client.post(
        "/api/v1/sites/", {"name": "With token"}, format="json", HTTP_X_CSRFTOKEN=token
    )
    assert accepted.status_code == 201, accepted.content


def test_api_keys_need_no_csrf_token(personas, alpha):
    _, raw = api_key_create(
        name="writer", created_by=personas.owner, permissions=["sites.manage"], all_sites=True
    )
    client = api_client(alpha, key=raw, csrf=True)
    response = client.post("/api/v1/sites/", {"name": "By key"}, format="json")
    assert response.status_code == 201


def test_one_error_format(personas, api_for, inventory):
    owner = api_for(personas.owner)
    invalid = owner.post("/api/v1/sites/", {"name": "", "timezone": "Mars/Base"}, format="json")
    assert invalid.status_code == 400
    body = invalid.json()["error"]
    assert body["code"] == "invalid" and set(body["details"]) == {"name", "timezone"}

    missing = owner.get("/api/v1/sites/999999/")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"

    unknown = owner.get("/api/v1/no-such-thing/")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"

    not_allowed = owner.put("/api/v1/stations/1/", {}, format="json")
    assert not_allowed.status_code == 405
    assert not_allowed.json()["error"]["code"] == "method_not_allowed"

    bad_filter = owner.get("/api/v1/stations/", {"last_seen_after": "soon", "status": "exploded"})
    assert bad_filter.status_code == 400
    assert set(bad_filter.json()["error"]["details"]) == {"last_seen_after", "status"}


def test_pagination(personas, api_for, alpha):
    from apps.stations.models import Site

    Site.objects.bulk_create([Site(name=f"Bulk {n:03}") for n in range(120)])
    owner = api_for(personas.owner)
    first = owner.get("/api/v1/sites/").json()
    assert first["count"] == 122 and len(first["results"]) == 50 and first["previous"] is None
    assert "page=2" in first["next"]
    big = owner.get("/api/v1/sites/", {"page_size": 5000}).json()
    assert len(big["results"]) == 122  # capped at 1000, more than enough here
    last = owner.get("/api/v1/sites/", {"page": 3}).json()
    assert len(last["results"]) == 22 and last["next"] is None
    assert owner.get("/api/v1/sites/", {"page": 9}).status_code == 404


def test_me_lists_where_each_permission_is_held(personas, api_for, alpha_sites):
    body = api_for(personas.delegate).get("/api/v1/me/").json()
    a1 = alpha_sites[0].pk
    assert body["kind"] == "user" and body["label"] == "delegate@installer.test"
    assert body["permissions"] == {
        "sites.view": [a1],
        "stations.view": [a1],
        "stations.configure": [a1],
        "stations.command": [a1],
        "sessions.view": [a1],
        "power.view": [a1],  # built-in roles see power (roles migration 0003)
        "alerts.manage": [a1],  # the delegate handles its sites' alerts (roles migration 0004)
        "reports.view": [a1],  # and reads its sites' reports (reports migration)
        "support.view": [a1],  # and its sites' support cases (support migration 0002)
        "support.open": [a1],
        "support.answer": [a1],
    }
    assert api_for(personas.outsider).get("/api/v1/me/").json()["permissions"] == {}
