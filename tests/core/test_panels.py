"""The registry of page panels (apps.core.panels): order, permission filtering on the page's
site, and the real pages including what features registered, to the people who may see it."""

from __future__ import annotations

import pytest
from django.urls import resolve, reverse

from apps.core import panels
from apps.core.scoping import SYSTEM
from apps.roles.models import Role
from apps.roles.selectors import UserActor
from apps.roles.services import role_assign
from tests.factories import UserFactory
from tests.portal.factories import make_session, make_station


@pytest.fixture
def registry(monkeypatch):
    """An empty registry for the page ``station`` (the real one comes back afterwards)."""
    monkeypatch.setattr(panels, "_panels", {panels.STATION: []})
    return panels


def panel(name: str, *, permission="stations.view", order=100, slot="full", **kwargs):
    return panels.Panel(
        page=panels.STATION,
        slot=slot,
        name=name,
        template_name=f"tests/{name}.html",
        permission=permission,
        order=order,
        **kwargs,
    )


def person(sites, *codes):
    role = Role.objects.create(slug="-".join(codes).replace(".", "-"), name="t", permissions=codes)
    user = UserFactory(email=f"{role.slug}@alpha.test")
    role_assign(user=user, role=role, sites=list(sites))
    return user


def test_panels_come_in_order_then_in_registration_order(registry):
    registry.register(panel("late", order=200))
    registry.register(panel("first"))
    registry.register(panel("early", order=10))
    registry.register(panel("second"))
    assert [p.name for p in registry.registered(panels.STATION)] == [
        "early",
        "first",
        "second",
        "late",
    ]
    # registering a name again replaces it where it was
    registry.register(panel("first", order=100, slot="column"))
    assert [p.name for p in registry.registered(panels.STATION)][1] == "first"
    assert registry.registered(panels.STATION)[1].slot == "column"
    registry.unregister(panels.STATION, "first")
    assert [p.name for p in registry.registered(panels.STATION)] == ["early", "second", "late"]


def test_a_panel_names_a_known_page_and_slot_and_a_permission(registry):
    with pytest.raises(ValueError, match="page"):
        registry.register(panels.Panel("nowhere", "full", "x", "x.html", "stations.view"))
    with pytest.raises(ValueError, match="slot"):
        registry.register(panel("x", slot="sidebar"))
    with pytest.raises(ValueError, match="permission"):
        registry.register(panel("x", permission=()))


def test_only_panels_the_actor_may_see_on_the_site(registry, personas, alpha_sites):
    a1, a2 = alpha_sites
    registry.register(panel("everyone"))
    registry.register(panel("commanders", permission="stations.command"))
    registry.register(panel("either", permission=("stations.command", "sessions.view")))
    looker = UserActor(person([a1], "stations.view"))
    operator = UserActor(person([a1], "stations.view", "sessions.view"))

    def names(actor, site):
        return [p.name for p in registry.visible(panels.STATION, actor=actor, site_id=site.pk)]

    assert names(looker, a1) == ["everyone"]
    assert names(operator, a1) == ["everyone", "either"]
    assert names(operator, a2) == []  # nothing on a site outside their scope
    assert names(UserActor(personas.owner), a2) == ["everyone", "commanders", "either"]


def test_page_panels_call_the_context_only_for_visible_panels(registry, alpha_sites):
    calls = []

    def context(*, obj, actor):
        calls.append((obj, actor))
        return {"value": 42}

    registry.register(panel("data", context=context))
    registry.register(panel("hidden", permission="stations.command", context=context))
    registry.register(panel("plain", slot="facts"))
    looker = UserActor(person([alpha_sites[0]], "stations.view"))
    page = registry.page_panels(panels.STATION, obj="obj", actor=looker, site_id=alpha_sites[0].pk)
    assert set(page) == set(panels.PAGES[panels.STATION])
    assert [(v.name, v.context) for v in page["full"]] == [("data", {"value": 42})]
    assert [(v.name, v.context) for v in page["facts"]] == [("plain", {})]
    assert page["column"] == []
    assert calls == [("obj", looker)]
    assert [
        v.name
        for v in registry.page_panels(panels.STATION, obj="obj", actor=SYSTEM, site_id=None)["full"]
    ] == ["data", "hidden"]


# --- The real pages with the panels the features registered ---------------------------------
def test_station_page_shows_each_feature_panel_to_who_may_see_it(personas, alpha_sites, client_for):
    station = make_station(alpha_sites[0], "PNL-1", statuses=("Available",))
    url = reverse("stations:station_detail", args=[station.pk])

    owner = client_for(personas.owner).get(url)
    names = {v.name for views in owner.context["panels"].values() for v in views}
    assert names == {
        "monitoring.uptime",
        "monitoring.alerts",
        "monitoring.remote_control",
        "waitlist.station_queue",
        "plans.cloud_plan",
        "support.station_cases",
        "access.station_access",  # access
    }
    html = owner.content.decode()
    assert 'id="remote-control"' in html and "Uptime, 7 days" in html and "No alerts." in html

    looker = client_for(person([alpha_sites[0]], "stations.view")).get(url)
    html = looker.content.decode()
    assert 'id="remote-control"' not in html  # needs stations.command or .configure
    assert "Uptime, 7 days" in html and "No alerts." in html

    configurer = client_for(person([alpha_sites[0]], "stations.view", "stations.configure"))
    html = configurer.get(url).content.decode()
    assert 'id="remote-control"' in html
    assert 'name="configuration_read-keys"' in html
    assert 'name="reset-reset_type"' not in html  # reset needs stations.command


def test_site_page_links_to_power_only_for_power_viewers(personas, alpha_sites, client_for):
    site = alpha_sites[0]
    url = reverse("stations:site_detail", args=[site.pk])
    power_url = reverse("power:site_power", args=[site.pk])
    assert power_url in client_for(personas.owner).get(url).content.decode()
    looker = person([site], "sites.view", "stations.view")
    assert power_url not in client_for(looker).get(url).content.decode()
    power_viewer = person([site], "sites.view", "power.view")
    assert power_url in client_for(power_viewer).get(url).content.decode()


def test_session_page_has_its_slots(personas, alpha_sites, client_for):
    station = make_station(alpha_sites[0], "PNL-2", statuses=("Charging",))
    session = make_session(station, token="PNL-TOKEN")
    response = client_for(personas.owner).get(reverse("charging:session_detail", args=[session.pk]))
    assert response.status_code == 200
    assert set(response.context["panels"]) == set(panels.PAGES[panels.SESSION])


def test_remote_control_views_keep_the_stations_urls():
    from apps.monitoring.views import StationResetView

    url = reverse("stations:station_reset", args=[7])
    assert url == "/stations/7/reset/"
    assert resolve(url).func.view_class is StationResetView


def test_dashboard_shows_monitorings_alerts_within_the_viewers_sites(
    personas, alpha_sites, client_for
):
    from apps.monitoring.models import Alert

    a1, a2 = alpha_sites
    for site, identity in ((a1, "DASH-A1"), (a2, "DASH-A2")):
        station = make_station(site, identity, statuses=("Available",))
        Alert.objects.create(station=station, kind="offline", message=f"{identity} gone")
    url = reverse("dashboard:home")

    owner = client_for(personas.owner).get(url)
    html = owner.content.decode()
    assert 'id="open-alerts">2<' in html
    assert "DASH-A1 gone" in html and "DASH-A2 gone" in html

    # a person who sees A1 only: the panel shows (they see some site), with A1's alert only
    html = client_for(person([a1], "stations.view")).get(url).content.decode()
    assert 'id="open-alerts">1<' in html
    assert "DASH-A1 gone" in html and "DASH-A2 gone" not in html
