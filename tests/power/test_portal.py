"""Portal pages: the tree with its live allocation, a node with the planner, setting a limit;
each persona sees only what is theirs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import override_settings

from apps.power import services
from apps.power.models import LimitOverride
from apps.roles.models import Role
from apps.roles.services import role_assign

from .test_services import NOW, start_all


@pytest.fixture(autouse=True)
def power_urls():
    with override_settings(ROOT_URLCONF="tests.power.urls"):
        yield


def test_the_site_page_shows_the_tree_and_why_each_port_got_its_limit(
    garage, fleet, personas, client_for
):
    start_all(garage, "AD")
    services.site_rebalance(site_id=garage.site.pk, now=NOW, send=fleet)
    page = client_for(personas.owner).get(f"/power/sites/{garage.site.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("Supply", "C1", "C2", "GARAGE-A #1", "Equal share"):
        assert name in html
    assert html.count('data-evse="') == 5


def test_a_node_page_plans_capacity_and_sets_a_limit(garage, fleet, personas, client_for):
    start_all(garage, "AD")
    services.site_rebalance(site_id=garage.site.pk, now=NOW, send=fleet)
    owner = client_for(personas.owner)
    page = owner.get(f"/power/nodes/{garage.supply.pk}/", {"port_kw": "7.4", "phases": "3"})
    assert page.status_code == 200
    assert "more ports fit" in page.content.decode() or "more port fits" in page.content.decode()
    response = owner.post(
        f"/power/nodes/{garage.supply.pk}/limit/", {"limit_a": "40", "hours": "2", "note": "Works"}
    )
    assert response.status_code == 302
    override = LimitOverride.objects.get(node=garage.supply)
    assert override.limit_a == Decimal("40.0") and override.note == "Works"


def test_people_without_power_rights_see_nothing(garage, personas, client_for):
    assert client_for(personas.outsider).get(f"/power/sites/{garage.site.pk}/").status_code == 403
    viewer = Role.objects.create(slug="power-view-only", name="Viewer", permissions=["power.view"])
    role_assign(user=personas.fleet_manager, role=viewer, sites=[garage.site])
    client = client_for(personas.fleet_manager)
    assert client.get(f"/power/sites/{garage.site.pk}/").status_code == 200
    page = client.get(f"/power/nodes/{garage.supply.pk}/")
    assert "Set a temporary limit" not in page.content.decode()
    denied = client.post(f"/power/nodes/{garage.supply.pk}/limit/", {"limit_a": "1", "hours": "1"})
    assert denied.status_code == 403
    assert not LimitOverride.objects.exists()


def test_another_sites_tree_is_not_found(garage, personas, client_for, alpha_sites):
    installer = Role.objects.create(slug="power-a1", name="A1", permissions=["power.view"])
    role_assign(user=personas.delegate, role=installer, sites=[alpha_sites[0]])
    client = client_for(personas.delegate)
    assert client.get(f"/power/sites/{garage.site.pk}/").status_code == 404
    assert client.get(f"/power/nodes/{garage.supply.pk}/").status_code == 404


def test_the_station_page_fragment_shows_a_scheduled_start(garage, fleet, personas):
    import datetime as dt

    from django.template import Context, Template
    from django.test import RequestFactory

    from apps.power.choices import ScheduleMode
    from apps.roles.selectors import UserActor

    services.charging_rule_create(
        site=garage.site,
        name="Night",
        mode=ScheduleMode.START_AT,
        start_time=dt.time(22, 0),
        departure_time=dt.time(6, 0),
    )
    start_all(garage, "A")
    services.site_rebalance(site_id=garage.site.pk, now=NOW, send=fleet)
    template = Template("{% load power %}{% station_power station %}")

    def render(user):
        request = RequestFactory().get("/")
        request.actor = UserActor(user)
        context = Context({"request": request, "station": garage.stations["A"]})
        return template.render(context)

    html = render(personas.owner)
    assert 'id="station-power"' in html
    assert "Scheduled: waiting for its start" in html
    assert "March 2, 2026, 10 p.m." in html  # 22:00 in the site's time zone (03:00 UTC)
    assert render(personas.outsider).strip() == ""


def test_a_temporary_limit_is_ended_early_from_the_node_page(garage, personas, client_for):
    """Parity with ``POST /api/v1/power-limits/<id>/end/``: the same service, power.manage."""
    from django.utils import timezone

    now = timezone.now()
    override = services.limit_override_create(
        node=garage.supply,
        source="manual",
        limit_a=Decimal("40"),
        starts_at=now - timezone.timedelta(minutes=1),  # ending it now is possible at once
        ends_at=now + timezone.timedelta(hours=4),
        note="Works",
    )
    page = client_for(personas.owner).get(f"/power/nodes/{garage.supply.pk}/").content.decode()
    assert f"/power/limits/{override.pk}/end/" in page and "End now" in page

    viewer = Role.objects.create(slug="power-viewer", name="Viewer", permissions=["power.view"])
    role_assign(user=personas.fleet_manager, role=viewer, sites=[garage.site])
    looker = client_for(personas.fleet_manager)
    assert "End now" not in looker.get(f"/power/nodes/{garage.supply.pk}/").content.decode()
    assert looker.post(f"/power/limits/{override.pk}/end/").status_code == 403
    assert (
        client_for(personas.outsider).post(f"/power/limits/{override.pk}/end/").status_code == 403
    )
    override.refresh_from_db()
    assert override.ends_at > timezone.now()

    ended = client_for(personas.owner).post(f"/power/limits/{override.pk}/end/")
    assert ended.status_code == 302 and ended.url == f"/power/nodes/{garage.supply.pk}/"
    override.refresh_from_db()
    assert override.ends_at <= timezone.now()
    from apps.audit.models import AuditEntry

    assert AuditEntry.objects.filter(action="power_limit.end", object_id=override.pk).exists()
    again = client_for(personas.owner).post(f"/power/limits/{override.pk}/end/", follow=True)
    assert "already ended" in again.content.decode()
