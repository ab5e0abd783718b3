"""The audit log: what ``audit_record`` writes for each kind of actor, and who may read it."""

import pytest

from apps.audit.models import AuditEntry
from apps.audit.services import audit_record, changes_between, site_of
from apps.core.scoping import SYSTEM
from apps.roles.models import Role
from apps.roles.selectors import ApiKeyActor, UserActor
from apps.roles.services import api_key_create, role_assign
from tests.api.conftest import api_client, make_station, results


def test_entries_name_the_actor_the_object_and_its_site(personas, alpha_sites):
    station = make_station(alpha_sites[0], "AUD-1")
    evse = station.evses.first()
    entry = audit_record(
        actor=UserActor(personas.delegate),
        action="station.reset",
        source="portal",
        obj=evse,
        changes={"kind": "hard"},
        ip="10.0.0.7",
    )
    entry.refresh_from_db()
    assert (entry.actor_kind, entry.actor_label, entry.user) == (
        "user",
        "delegate@installer.test",
        personas.delegate,
    )
    assert (entry.object_type, entry.object_id, entry.object_repr) == (
        "stations.evse",
        str(evse.pk),
        "AUD-1 name #1",
    )
    assert entry.site == alpha_sites[0] and str(entry.ip) == "10.0.0.7"

    key, _ = api_key_create(
        name="BMS", created_by=personas.owner, permissions=["sites.view"], all_sites=True
    )
    by_key = audit_record(actor=ApiKeyActor(key), action="site.update", source="api")
    assert (by_key.actor_kind, by_key.api_key, by_key.user) == ("api_key", key, personas.owner)
    by_system = audit_record(actor=SYSTEM, action="station.accept", source="system")
    assert (by_system.actor_kind, by_system.actor_label, by_system.user) == (
        "system",
        "system",
        None,
    )


def test_helpers(alpha_sites):
    station = make_station(alpha_sites[1], "AUD-2")
    assert site_of(alpha_sites[1]) == alpha_sites[1]
    assert site_of(station.evses.first().connectors.first()) == alpha_sites[1]
    assert site_of(None) is None
    assert changes_between({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4}) == {
        "b": [2, 3],
        "c": [None, 4],
    }


@pytest.fixture
def entries(personas, alpha_sites):
    a1, a2 = alpha_sites
    owner = UserActor(personas.owner)
    made = [
        audit_record(actor=owner, action="site.update", source="portal", obj=a1),
        audit_record(actor=owner, action="station.reset", source="api", obj=a2, succeeded=False),
        audit_record(actor=SYSTEM, action="token.create", source="system", object_repr="card"),
    ]
    return made


def test_site_admins_read_and_filter_the_log(entries, personas, alpha):
    owner = api_client(alpha, user=personas.owner)

    def actions(**params):
        response = owner.get("/api/v1/audit-log/", params)
        assert response.status_code == 200, response.content
        return [row["action"] for row in results(response)]

    assert actions() == ["token.create", "station.reset", "site.update"]
    assert actions(source="api") == ["station.reset"]
    assert actions(action="station.") == ["station.reset"]
    assert actions(action="station") == []
    assert actions(actor_kind="system") == ["token.create"]
    assert actions(succeeded="false") == ["station.reset"]
    assert actions(site="A1 Garage") == ["site.update"]
    assert actions(q="card") == ["token.create"]
    assert actions(ordering="occurred_at")[0] == "site.update"


def test_auditors_of_one_site_see_that_sites_entries_only(entries, personas, alpha, alpha_sites):
    auditor_role = Role.objects.create(
        slug="auditor", name="Auditor", permissions=["audit.view", "sites.view"]
    )
    role_assign(user=personas.outsider, role=auditor_role, sites=[alpha_sites[0]])
    response = api_client(alpha, user=personas.outsider).get("/api/v1/audit-log/")
    assert [row["action"] for row in results(response)] == ["site.update"]
    # the delegate (no audit.view) and the fleet manager read nothing
    for user in (personas.delegate, personas.fleet_manager):
        assert api_client(alpha, user=user).get("/api/v1/audit-log/").status_code == 403


def test_the_log_cannot_be_written_through_the_api(entries, personas, alpha):
    owner = api_client(alpha, user=personas.owner)
    entry = entries[0]
    assert owner.post("/api/v1/audit-log/", {}, format="json").status_code == 405
    assert owner.delete(f"/api/v1/audit-log/{entry.pk}/").status_code == 405
    assert AuditEntry.objects.count() == 3
