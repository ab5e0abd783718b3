"""The tree editor, the live view's message, the history chart: the owner edits; people who
may only look, people of other sites and other tenants see and change nothing."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from apps.power import selectors, services
from apps.power.choices import NodeKind, Wiring
from apps.power.models import EvsePower, NodeInterval, PowerNode, StationPower

from .test_services import NOW, start_all


@pytest.fixture(autouse=True)
def power_urls():
    with override_settings(ROOT_URLCONF="tests.power.urls"):
        yield


def node_data(**fields) -> dict:
    data = {
        "name": "Sub-panel B",
        "kind": NodeKind.PANEL,
        "parent": "",
        "lines": "L1L2L3",
        "voltage_v": "230",
        "rating_a": "32",
        "continuous_factor": "0.80",
        "limit_kw": "",
        "demand_cap_kw": "",
        "fallback_load_kw": "0",
    }
    data.update({key: str(value) for key, value in fields.items()})
    return data


def test_the_owner_builds_edits_moves_and_deletes_nodes(garage, personas, client_for):
    owner = client_for(personas.owner)
    page = owner.get(f"/power/sites/{garage.site.pk}/").content.decode()
    assert 'id="add-node"' in page and "Edit or move" in page
    response = owner.post(
        f"/power/sites/{garage.site.pk}/nodes/add/",
        node_data(parent=garage.supply.pk, lines="L2", rating_a="20"),
    )
    assert response.status_code == 302
    panel = PowerNode.objects.get(site=garage.site, name="Sub-panel B")
    assert (panel.parent, panel.lines, panel.limit_a) == (garage.supply, "L2", Decimal("16.0"))
    # Move it under C1 and give it a kW limit.
    response = owner.post(
        f"/power/nodes/{panel.pk}/edit/",
        node_data(parent=garage.c1.pk, lines="L2", rating_a="20", limit_kw="3.5"),
    )
    assert response.status_code == 302
    panel.refresh_from_db()
    assert (panel.parent, panel.limit_kw) == (garage.c1, Decimal("3.5"))
    # A node cannot move under its own subtree.
    response = owner.post(
        f"/power/nodes/{garage.supply.pk}/edit/",
        node_data(name="Supply", parent=panel.pk, kind=NodeKind.SUPPLY, rating_a="63"),
    )
    assert response.status_code == 400
    garage.supply.refresh_from_db()
    assert garage.supply.parent is None
    # A node with stations under it stays; an empty one goes.
    owner.post(f"/power/nodes/{garage.c1.pk}/delete/")
    assert PowerNode.objects.filter(pk=garage.c1.pk).exists()
    assert owner.post(f"/power/nodes/{panel.pk}/delete/").status_code == 302
    assert not PowerNode.objects.filter(pk=panel.pk).exists()


def test_the_owner_places_stations_and_sets_port_wiring(garage, personas, client_for):
    owner = client_for(personas.owner)
    station = garage.stations["A"]
    response = owner.post(
        f"/power/sites/{garage.site.pk}/stations/",
        {"station": station.pk, "node": garage.c2.pk, "breaker_rating_a": "20"},
    )
    assert response.status_code == 302
    power = StationPower.objects.get(station=station)
    assert (power.node, power.selected_max_a) == (garage.c2, Decimal("16.0"))
    evse = garage.evse("B")
    response = owner.post(
        f"/power/evses/{evse.pk}/wiring/",
        {"wiring": Wiring.SINGLE_PHASE, "rotation": "TRS", "volts": "230", "idle_current_a": "0"},
    )
    assert response.status_code == 302
    wiring = EvsePower.objects.get(evse=evse)
    assert (wiring.wiring, wiring.rotation) == (Wiring.SINGLE_PHASE, "TRS")


def editor_requests(garage):
    site, node = garage.site.pk, garage.c1.pk
    return [
        ("get", f"/power/sites/{site}/nodes/add/", {}),
        ("post", f"/power/sites/{site}/nodes/add/", node_data(parent=node)),
        ("get", f"/power/nodes/{node}/edit/", {}),
        ("post", f"/power/nodes/{node}/edit/", node_data(name="Renamed", parent=garage.supply.pk)),
        ("post", f"/power/nodes/{node}/delete/", {}),
        ("post", f"/power/sites/{site}/stations/", {"station": garage.stations["A"].pk}),
        ("post", f"/power/evses/{garage.evse('A').pk}/wiring/", {"wiring": "single_phase"}),
    ]


def unchanged(garage) -> None:
    assert sorted(PowerNode.objects.filter(site=garage.site).values_list("name", flat=True)) == [
        "C1",
        "C2",
        "Supply",
    ]
    assert StationPower.objects.get(station=garage.stations["A"]).node == garage.c1
    assert not EvsePower.objects.filter(evse=garage.evse("A")).exists()


def test_people_who_may_only_look_change_nothing(garage, personas, client_for):
    """The fleet manager (built-in role: power.view on every site) gets 403 everywhere."""
    client = client_for(personas.fleet_manager)
    assert client.get(f"/power/sites/{garage.site.pk}/").status_code == 200
    page = client.get(f"/power/sites/{garage.site.pk}/").content.decode()
    assert 'id="add-node"' not in page and "Edit or move" not in page
    for method, url, data in editor_requests(garage):
        assert getattr(client, method)(url, data).status_code == 403, url
    unchanged(garage)


def test_people_of_other_sites_and_tenants_see_nothing(garage, personas, client_for, alpha, beta):
    """The delegate manages power on another site only; beta's owner holds everything in beta."""
    from apps.roles.models import Role
    from apps.roles.services import role_assign

    installer = Role.objects.create(
        slug="power-installer-elsewhere",
        name="Installer",
        permissions=["power.view", "power.manage"],
    )
    role_assign(user=personas.delegate, role=installer, sites=[personas_site(garage)])
    requests = editor_requests(garage)
    outsiders = [
        client_for(personas.delegate),
        client_for(personas.other_tenant_user, tenant=beta),
    ]
    for client in outsiders:
        for url in (f"/power/sites/{garage.site.pk}/", f"/power/nodes/{garage.c1.pk}/"):
            response = client.get(url)
            assert response.status_code == 404, url
            assert b"GARAGE" not in response.content
        for method, url, data in requests:
            assert getattr(client, method)(url, data).status_code == 404, url
    connection.set_tenant(alpha)  # a request to beta's host leaves the connection there
    assert client_for(personas.outsider).get(f"/power/sites/{garage.site.pk}/").status_code == 403
    unchanged(garage)


def personas_site(garage):
    from apps.stations.services import site_create

    return site_create(name="Elsewhere", timezone="America/Montreal")


def test_the_live_message_carries_each_node_and_port(garage, fleet):
    start_all(garage, "AD")
    services.site_rebalance(site_id=garage.site.pk, now=NOW, send=fleet)
    message = selectors.site_power_message(site=garage.site, now=NOW)
    assert message["kind"] == "power_tree" and message["site_id"] == garage.site.pk
    assert set(message["nodes"]) == {str(n.pk) for n in (garage.supply, garage.c1, garage.c2)}
    a = message["evses"][str(garage.evse("A").pk)]
    d = message["evses"][str(garage.evse("D").pk)]
    # Two three-phase sessions share 48 A per line on the supply: 24 A each (share).
    assert (a["limit_a"], a["reason"]) == (d["limit_a"], d["reason"])
    assert a["reason"] in ("share", "max", "hold")
    supply = message["nodes"][str(garage.supply.pk)]
    assert supply["allocated_a"] == [str(Decimal(a["limit_a"]) + Decimal(d["limit_a"]))] * 3


def test_the_node_page_charts_drawn_against_the_limit(garage, personas, client_for):
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=1)
    NodeInterval.objects.create(
        node=garage.supply,
        start=start,
        samples=2,
        drawn_w_sum=30_000,
        drawn_w_max=16_000,
        base_w_sum=20_000,
        allocated_w_sum=40_000,
        sessions_max=2,
        limit_w=43_470,
    )
    page = client_for(personas.owner).get(f"/power/nodes/{garage.supply.pk}/").content.decode()
    start_tag = page.index('<script id="power-history" type="application/json">')
    data = page[start_tag:].split(">", 1)[1].split("</script>", 1)[0]
    assert json.loads(data) == [
        {
            "t": int(start.timestamp()),
            "drawn": 15.0,
            "peak": 16.0,
            "allocated": 20.0,
            "limit": 43.47,
        }
    ]
    assert "vendor/uplot/uPlot.iife.min.js" in page and "power/power.js" in page
    assert "https://" not in page.split("<main", 1)[-1]  # nothing fetched from elsewhere


def test_the_editor_speaks_french():
    from django.utils.translation import gettext, override

    with override("fr"):
        assert gettext("Edit or move") == "Modifier ou déplacer"
        assert gettext("Drawn against the limit") == "Consommation et limite"
