"""The energy API: a building-management system with an ``energy.bms`` key reads the live load
and why each limit applies, sets temporary and scheduled limits, pushes its own load (each
write audited), within its own rate limit; a site admin opts out of an event."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.models import AuditEntry
from apps.energy.choices import Opt
from apps.energy.models import DemandResponseEvent
from apps.power.models import LimitOverride, PowerNode
from apps.roles.services import api_key_create
from tests.api.conftest import api_client
from tests.energy.conftest import in_force


@pytest.fixture
def bms_key(alpha, garage):
    owner = User.objects.get(email="owner@alpha.test")
    _, key = api_key_create(
        name="BMS", created_by=owner, permissions=["energy.bms"], sites=[garage.site]
    )
    cache.clear()  # the throttle's counters of earlier tests
    return key


def test_live_shows_the_limits_in_force_and_why(alpha, garage, bms_key):
    from apps.energy import services

    services.bms_limit_set(
        node=garage.supply,
        limit_a=Decimal("60"),
        ends_at=timezone.now() + timedelta(hours=1),
        note="chiller start",
    )
    response = api_client(alpha, key=bms_key).get(f"/api/v1/bms-nodes/{garage.supply.pk}/live/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["limit_a"] == "60.0"
    sources = {(r["source"], r["limit_a"]) for r in body["limits"]}
    assert sources == {("rating", "100.0"), ("api", "60.0")}
    assert body["building_load_w"] == 0 and body["charging_w"] == 0


def test_a_bms_sets_a_scheduled_limit_and_pushes_its_load_audited(alpha, garage, bms_key):
    client = api_client(alpha, key=bms_key)
    starts = timezone.now() + timedelta(hours=2)
    response = client.post(
        f"/api/v1/bms-nodes/{garage.supply.pk}/limit/",
        {
            "limit_kw": "30",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=1)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    override = LimitOverride.objects.get(pk=response.json()["id"])
    assert (override.source, override.limit_kw, override.starts_at) == (
        "api",
        Decimal("30"),
        starts,
    )
    # A limit must end.
    missing_end = client.post(
        f"/api/v1/bms-nodes/{garage.supply.pk}/limit/", {"limit_a": "10"}, format="json"
    )
    assert missing_end.status_code == 400
    assert (
        client.post(
            f"/api/v1/bms-nodes/{garage.supply.pk}/building-load/", {"load_w": 12500}, format="json"
        ).status_code
        == 204
    )
    garage.supply.refresh_from_db()
    assert garage.supply.measured_load_w == 12500
    assert client.post(f"/api/v1/bms-nodes/{garage.supply.pk}/end-limits/").status_code == 204
    assert not LimitOverride.objects.filter(pk=override.pk).exists()  # not started: gone
    actions = set(
        AuditEntry.objects.filter(object_id=str(garage.supply.pk)).values_list("action", flat=True)
    )
    assert {"energy_bms.limit", "energy_bms.building_load", "energy_bms.end_limits"} <= actions


def test_bms_keys_have_their_own_rate_limit(alpha, garage, bms_key):
    client = api_client(alpha, key=bms_key)
    url = f"/api/v1/bms-nodes/{garage.supply.pk}/"
    with override_settings(ENERGY_BMS_RATE="3/min"):
        codes = [client.get(url).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_a_bms_key_sees_only_its_sites_nodes(alpha, garage, bms_key):
    from tests.factories import SiteFactory

    elsewhere = PowerNode.objects.create(site=SiteFactory(name="Other"), name="Other supply")
    client = api_client(alpha, key=bms_key)
    ids = [row["id"] for row in client.get("/api/v1/bms-nodes/").json()["results"]]
    assert ids == [garage.supply.pk]
    assert client.get(f"/api/v1/bms-nodes/{elsewhere.pk}/live/").status_code == 404


def test_a_site_admin_opts_out_of_an_event_through_the_api(alpha, garage):
    from apps.energy import services
    from apps.energy.openadr import EventMessage

    ven = services.ven_create(
        site=garage.site, node=garage.supply, name="U", vtn_url="https://vtn.test/", ven_name="u"
    )
    now = timezone.now()
    services.events_apply(
        ven=ven,
        messages=[
            EventMessage(
                event_id="e1",
                modification_number=0,
                status="active",
                priority=0,
                signal_name="simple",
                signal_type="level",
                value=Decimal("2"),
                starts_at=now,
                duration=timedelta(hours=1),
                ramp_up=timedelta(0),
                recovery=timedelta(0),
                start_after=timedelta(0),
                response_required=True,
            )
        ],
        now=now,
    )
    event = DemandResponseEvent.objects.get(ven=ven)
    assert LimitOverride.objects.filter(reference=event.reference).exists()
    owner = User.objects.get(email="owner@alpha.test")
    response = api_client(alpha, user=owner).post(
        f"/api/v1/energy-events/{event.pk}/opt/", {"opt": Opt.OUT}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["opt"] == Opt.OUT
    assert not in_force(event.reference)
    assert AuditEntry.objects.filter(action="energy_event.opt", object_id=str(event.pk)).exists()


def test_a_site_admin_adds_a_ven_and_its_private_key_is_never_answered(alpha, garage, tmp_path):
    from tests.energy.conftest import make_certificates

    folder = make_certificates(tmp_path)
    owner = User.objects.get(email="owner@alpha.test")
    response = api_client(alpha, user=owner).post(
        "/api/v1/energy-vens/",
        {
            "site": garage.site.pk,
            "node": garage.supply.pk,
            "name": "Hydro",
            "vtn_url": "https://vtn.example/OpenADR2/Simple/2.0b",
            "ven_name": "garage-1",
            "client_cert_pem": (folder / "ven.pem").read_text(),
            "client_key_pem": (folder / "ven.key").read_text(),
            "vtn_ca_pem": (folder / "ca.pem").read_text(),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert "client_key_pem" not in body and body["has_client_key"] is True
    assert len(body["client_cert_fingerprint"].split(":")) == 10  # OpenADR's short form
    assert "PRIVATE KEY" not in response.content.decode()
    entry = AuditEntry.objects.get(action="energy_ven.create", object_id=str(body["id"]))
    assert "PRIVATE KEY" not in str(entry.changes)


def test_a_group_ven_through_the_api_only_with_nodes_the_caller_manages(alpha, garage, annex):
    from tests.core.test_panels import person

    owner = User.objects.get(email="owner@alpha.test")
    body = {
        "site": garage.site.pk,
        "node": garage.supply.pk,
        "member_nodes": [annex.supply.pk],
        "name": "Group",
        "vtn_url": "https://vtn.test/OpenADR2/Simple/2.0b",
        "ven_name": "group",
    }
    response = api_client(alpha, user=owner).post("/api/v1/energy-vens/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["member_nodes"] == [annex.supply.pk]
    # Someone who manages the garage but not the annex cannot pull the annex in.
    garage_admin = person([garage.site], "energy.manage", "energy.view")
    response = api_client(alpha, user=garage_admin).post(
        "/api/v1/energy-vens/", {**body, "ven_name": "sneaky"}, format="json"
    )
    assert response.status_code == 400
    assert "member_nodes" in response.json()["error"]["details"]


def test_a_bms_replaces_its_schedule_all_or_nothing(alpha, garage, bms_key):
    from apps.energy import services

    now = timezone.now()
    running = services.bms_limit_set(
        node=garage.supply,
        limit_a=Decimal("70"),
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=3),
    )
    client = api_client(alpha, key=bms_key)
    url = f"/api/v1/bms-nodes/{garage.supply.pk}/schedule/"
    hour = timedelta(hours=1)
    plan = [
        {
            "limit_kw": "40",
            "starts_at": (now + hour).isoformat(),
            "ends_at": (now + 2 * hour).isoformat(),
        },
        {
            "limit_a": "50",
            "starts_at": (now + 3 * hour).isoformat(),
            "ends_at": (now + 5 * hour).isoformat(),
        },
    ]

    response = client.post(url, {"limits": plan}, format="json")

    assert response.status_code == 200, response.content
    assert [(r["limit_kw"], r["limit_a"]) for r in response.json()] == [
        ("40.000", None),
        (None, "50.0"),
    ]
    running.refresh_from_db()
    assert running.ends_at <= timezone.now()  # the old schedule's running limit ended
    live = LimitOverride.objects.filter(
        node=garage.supply, reference="bms", ends_at__gt=timezone.now()
    )
    assert live.count() == 2
    # A bad item (longer than 7 days) changes nothing.
    bad = [
        *plan,
        {
            "limit_a": "10",
            "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(days=8)).isoformat(),
        },
    ]
    response = client.post(url, {"limits": bad}, format="json")
    assert response.status_code == 400
    assert "limits" in response.json()["error"]["details"]
    assert live.count() == 2
    # An empty schedule clears it.
    assert client.post(url, {"limits": []}, format="json").status_code == 200
    assert live.count() == 0
    assert AuditEntry.objects.filter(action="energy_bms.schedule").count() == 2
