"""Draining a partner's outbox against the peer process: an EVSE's statuses are coalesced (only
its newest goes), different objects are sent concurrently by a bounded pool, one object's
pushes in order, and a failure holds back only that object's later pushes."""

from __future__ import annotations

import pytest
from django.db import connection, connections
from django.test import override_settings

from apps.roaming import queue, services
from apps.roaming.choices import PartnerStatus, PushStatus
from apps.roaming.models import Partner, Push
from tests.live import unique_identity


@pytest.fixture
def drained(live_alpha, peer, monkeypatch):
    """A partner for the peer; pushes are queued by hand and drained here (no worker)."""
    monkeypatch.setattr(services, "_send", lambda entries: None)
    retries = []
    monkeypatch.setattr(queue, "push_drain", lambda *a, **kw: retries.append((a, kw)))
    peer.control("set", {"issued_token": "token-for-drain"})
    base = f"{peer.url}/ocpi/2.2.1"
    partner = Partner.objects.create(
        name="Peer",
        country_code="NL",
        party_id="EMS",
        roles=["EMSP"],
        status=PartnerStatus.CONNECTED,
        version="2.2.1",
        incoming_token=f"in-{unique_identity()}",
        outgoing_token="token-for-drain",
        endpoints=[
            {"identifier": "locations", "role": "RECEIVER", "url": f"{base}/locations"},
            {"identifier": "sessions", "role": "RECEIVER", "url": f"{base}/sessions"},
        ],
    )
    with override_settings(ROAMING_ALLOW_PRIVATE_NETWORKS=True, ROAMING_PUSH_CONCURRENCY=4):
        yield partner, retries


def _status(partner, evse: int, status: str) -> Push:
    (push,) = services.push_enqueue(
        partners=[partner],
        module="locations",
        method="PATCH",
        path=f"/CA/ALP/LOC1/1-{evse}",
        body={"status": status},
        coalesce=True,
    )
    return push


def _session(partner, method: str, body: dict) -> Push:
    (push,) = services.push_enqueue(
        partners=[partner], module="sessions", method=method, path="/CA/ALP/77", body=body
    )
    return push


def test_coalesced_concurrent_and_in_order_per_object(drained, peer):
    partner, retries = drained
    peer.control("set", {"delay": 0.2, "received": [], "max_in_flight": 0})
    flips = [_status(partner, 1, status) for status in ("CHARGING", "AVAILABLE", "CHARGING")]
    others = [_status(partner, evse, "CHARGING") for evse in range(2, 12)]
    start = _session(partner, "PUT", {"id": "77", "kwh": 0})
    update = _session(partner, "PATCH", {"kwh": 1.5})
    assert services.push_drain(partner_id=partner.pk) == 1 + len(others) + 2
    received = peer.state()
    paths = [r["path"].split("/ocpi/2.2.1")[1] for r in received["received"]]
    # the EVSE that flipped three times: only its newest status went
    assert [r["body"] for r in received["received"] if r["path"].endswith("/1-1")] == [
        {"status": "CHARGING"}
    ]
    assert {push.status for push in Push.objects.filter(pk__in=[p.pk for p in flips[:2]])} == {
        PushStatus.SUPERSEDED
    }
    assert Push.objects.get(pk=flips[2].pk).status == PushStatus.SUCCEEDED
    # ten other EVSEs, each once; the session's PUT before its PATCH
    assert sorted(p for p in paths if "/locations/" in p) == sorted(
        f"/locations/CA/ALP/LOC1/1-{evse}" for evse in range(1, 12)
    )
    methods = [r["method"] for r in received["received"] if "/sessions/" in r["path"]]
    assert methods == ["PUT", "PATCH"]
    # sent concurrently, by a pool of 4
    assert 2 <= received["max_in_flight"] <= 4
    assert not Push.objects.exclude(
        status__in=[PushStatus.SUCCEEDED, PushStatus.SUPERSEDED]
    ).exists()
    assert {start.pk, update.pk} <= set(
        Push.objects.filter(status=PushStatus.SUCCEEDED).values_list("pk", flat=True)
    )
    assert not retries
    assert services.push_drain(partner_id=partner.pk) == 0  # nothing sent twice
    assert len(peer.state()["received"]) == len(received["received"])


def test_a_failure_holds_back_only_its_objects_later_pushes(drained, peer):
    partner, retries = drained
    peer.control("set", {"down": True, "received": []})
    first = _session(partner, "PUT", {"id": "77"})
    assert services.push_drain(partner_id=partner.pk) == 0
    first.refresh_from_db()
    assert first.status == PushStatus.RETRYING and first.attempts == 1
    assert len(retries) == 1 and retries[0][1]["countdown"] > 0  # a drain after the back-off
    # the partner is back: the session's PATCH must not overtake its PUT (still backing off)
    peer.control("set", {"down": False})
    later = _session(partner, "PATCH", {"kwh": 2})
    evse = _status(partner, 5, "AVAILABLE")
    assert services.push_drain(partner_id=partner.pk) == 1  # the EVSE only
    later.refresh_from_db()
    assert later.status == PushStatus.RETRYING and later.attempts == 0  # held back, no attempt
    assert Push.objects.get(pk=evse.pk).status == PushStatus.SUCCEEDED
    # the back-off over: the PUT, then the PATCH
    Push.objects.filter(pk__in=[first.pk, later.pk]).update(next_attempt_at=first.created_at)
    assert services.push_drain(partner_id=partner.pk) == 2
    sessions = [r["method"] for r in peer.state()["received"] if "/sessions/" in r["path"]]
    assert sessions == ["PUT", "PATCH"]


def test_one_drainer_per_partner(drained, peer):
    partner, _ = drained
    _status(partner, 3, "CHARGING")
    with connection.cursor() as cursor:
        assert services._partner_lock(cursor, partner.pk)  # noqa: SLF001 (another drainer)
        try:
            # a second connection (another worker's) does not get it
            other = connections.create_connection("default")
            other.set_tenant(connection.tenant)
            with other.cursor() as second:
                assert not services._partner_lock(second, partner.pk)  # noqa: SLF001
            other.close()
        finally:
            services._partner_lock(cursor, partner.pk, release=True)  # noqa: SLF001
    assert services.push_drain(partner_id=partner.pk) == 1
