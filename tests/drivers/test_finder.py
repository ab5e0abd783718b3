"""The public finder: availability per connector type and power, the ranking, filters, the
pages without sign-in."""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest
from django.test import Client

from apps.billing import services as billing
from apps.drivers import selectors, services
from apps.drivers.live import publish_station
from apps.drivers.selectors import Preferences, rank
from apps.drivers.views import place_origin
from apps.stations.models import Station
from apps.waitlist.models import WaitlistEntry, WaitlistGroup
from tests.conftest import host_of
from tests.drivers.conftest import HERE, set_status


def by_id(rows):
    return {row["id"]: row for row in rows}


def ours(net, ranked):
    """The ranking of the test's stations (committed rows of live tests may be listed too)."""
    mine = {net.near.pk, net.fast.pk, net.members.pk, net.depot.pk}
    return [r for r in ranked if r.station["id"] in mine]


def test_only_published_stations_with_free_ports_counted_per_type_and_power(net):
    set_status(net.near, "Charging", evse_id=1)
    rows = by_id(selectors.finder_stations())
    assert net.depot.pk not in rows
    assert rows[net.near.pk]["ports"] == [["cType2", 7.4, 1, 2]]
    assert rows[net.fast.pk]["ports"] == [["cCCS1", 150.0, 2, 2]]
    assert rows[net.members.pk]["access"] == "members"
    # an offline station has no free port, whatever its ports last said
    Station.objects.filter(pk=net.fast.pk).update(is_online=False)
    assert by_id(selectors.finder_stations())[net.fast.pk]["free"] == 0


def test_the_nearest_free_station_ranks_first_and_a_busy_one_falls_behind(net):
    type2 = Preferences(connector_type="cType2")
    stations = selectors.finder_stations()
    ranked = ours(net, rank(stations, origin=HERE, prefs=type2, price=lambda _: None))
    assert [r.station["id"] for r in ranked] == [net.near.pk, net.members.pk]
    set_status(net.near, "Charging")
    ranked = rank(selectors.finder_stations(), origin=HERE, prefs=type2, price=lambda _: None)
    ids = [r.station["id"] for r in ours(net, ranked)]
    assert ids.index(net.members.pk) < ids.index(net.near.pk)
    busy = next(r for r in ranked if r.station["id"] == net.near.pk)
    assert busy.parts["wait"] > 0


def test_a_fast_charger_a_little_further_is_done_sooner(net):
    ranked = ours(
        net,
        rank(selectors.finder_stations(), origin=HERE, prefs=Preferences(), price=lambda _: None),
    )
    assert ranked[0].station["id"] == net.fast.pk  # 3 km at 150 kW beats 0.3 km at 7.4 kW
    assert ranked[0].parts["charge"] == pytest.approx(8.0)


def test_queue_length_from_the_waitlist_makes_a_busy_station_less_convenient(net):
    set_status(net.near, "Charging")
    before = next(
        r
        for r in rank(
            selectors.finder_stations(), origin=HERE, prefs=Preferences(), price=lambda _: None
        )
        if r.station["id"] == net.near.pk
    )
    group = WaitlistGroup.objects.create(site=net.near.site, name="Quay queue")
    group.stations.set([net.near])
    now = dt.datetime.now(dt.UTC)
    for n in range(4):
        WaitlistEntry.objects.create(
            group=group, token_uid=f"Q{n}", joined_via="api", joined_at=now, queued_at=now
        )
    after = next(
        r
        for r in rank(
            selectors.finder_stations(), origin=HERE, prefs=Preferences(), price=lambda _: None
        )
        if r.station["id"] == net.near.pk
    )
    assert after.station["queue"] == 4
    assert after.minutes > before.minutes


def test_filters_connector_power_access_and_free_only(net):
    def ids(**prefs):
        ranked = rank(
            selectors.finder_stations(),
            origin=HERE,
            prefs=Preferences(**prefs),
            price=lambda _: None,
        )
        return {r.station["id"] for r in ours(net, ranked)}

    assert ids(connector_type="cCCS1") == {net.fast.pk}
    assert ids(min_kw=50) == {net.fast.pk}
    assert net.members.pk not in ids(public_only=True)
    set_status(net.fast, "Charging")
    assert net.fast.pk not in ids(free_only=True, connector_type="")


def test_a_cheaper_station_wins_when_the_rest_is_equal(net):
    stations = [s for s in selectors.finder_stations() if s["id"] in (net.near.pk, net.members.pk)]
    # the same place for both: only the price tells them apart
    for s in stations:
        s["lat"], s["lon"], s["access"] = HERE[0], HERE[1], "public"
    prices = {
        net.near.pk: {"components": [{"kind": "energy", "price_per_kwh": "0.60"}]},
        net.members.pk: {"components": [{"kind": "energy", "price_per_kwh": "0.20"}]},
    }
    ranked = rank(stations, origin=HERE, prefs=Preferences(), price=prices.get)
    assert ranked[0].station["id"] == net.members.pk
    assert ranked[1].parts["price"] == pytest.approx(0.60 * 20 * 4)


def test_billing_answers_the_drivers_price(net):
    assert selectors.price_for(net.near.pk) is None  # no tariff: nothing is promised
    tariff = billing.tariff_create(
        name="Public",
        definition={"currency": "CAD", "energy": [{"price_per_kwh": "0.30"}]},
        effective_from=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    )
    billing.tariff_assign(tariff=tariff, site=net.near.site)
    price = selectors.price_for(net.near.pk)
    assert price["currency"] == "CAD" and "0.30" in price["summary"]
    assert selectors.typical_cost(price) == pytest.approx(6)


def test_a_typed_place_or_coordinates_become_the_origin(net):
    stations = selectors.finder_stations()
    assert place_origin("45.5, -73.56", stations) == (45.5, -73.56)
    plateau = place_origin(net.fast.site.name, stations)
    assert plateau == pytest.approx((45.525, -73.585))
    assert place_origin("Nowhere at all", stations) is None


def test_the_finder_page_needs_no_sign_in_and_ranks_from_typed_coordinates(net, alpha):
    client = Client(HTTP_HOST=host_of(alpha))
    response = client.get("/drivers/", {"near": f"{HERE[0]}, {HERE[1]}"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="best"' in body and f'data-station="{net.near.pk}"' in body
    assert net.depot.name not in body
    assert "https://www.google.com/maps/dir/?api=1&amp;destination=45.507000,-73.554000" in body
    data = client.get("/drivers/stations.json").json()
    assert [net.near.pk, net.near.name, 45.507, -73.554, 2, 2] in data["stations"]
    assert net.depot.pk not in {row[0] for row in data["stations"]}
    # the list works without a map: every row has its availability as text
    assert f'data-free="{net.near.pk}">2<' in body


def test_a_station_page_is_public_only_when_listed(net, alpha):
    client = Client(HTTP_HOST=host_of(alpha))
    page = client.get(f"/drivers/stations/{net.fast.pk}/")
    assert page.status_code == 200 and "Level P2" in page.content.decode()
    assert client.get(f"/drivers/stations/{net.depot.pk}/").status_code == 404


def test_the_finder_speaks_french(net, alpha):
    client = Client(HTTP_HOST=host_of(alpha), HTTP_ACCEPT_LANGUAGE="fr")
    client.cookies["django_language"] = "fr"
    body = client.get("/drivers/").content.decode()
    assert "Trouver une borne" in body


def test_the_networks_rows_are_kept_a_moment_per_process(net, settings):
    settings.DRIVERS_FINDER_CACHE_SECONDS = 60
    first = selectors.finder_stations()
    set_status(net.near, "Charging")
    assert selectors.finder_stations() is first  # the pushed feed tells open pages meanwhile
    settings.DRIVERS_FINDER_CACHE_SECONDS = 0
    assert by_id(selectors.finder_stations())[net.near.pk]["free"] == 0


def test_the_kept_rows_follow_the_journal_of_changes(
    net, alpha, settings, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """Between full reads, a process replaces only the rows the journal says changed; a new
    process starts from the snapshot shared in Redis; a listing change reads everything."""
    settings.DRIVERS_FINDER_CACHE_SECONDS = 60
    settings.DRIVERS_FINDER_SYNC_SECONDS = 0
    selectors._snapshots.clear()
    first = selectors.finder_stations()
    set_status(net.near, "Charging")
    publish_station(net.near.pk)  # what the station's status event does (apps.drivers.live)
    second = selectors.finder_stations()
    assert second is not first
    assert by_id(second)[net.near.pk]["free"] == 0 and by_id(first)[net.near.pk]["free"] == 2
    assert by_id(second)[net.fast.pk] is by_id(first)[net.fast.pk]  # the others stay
    assert selectors.finder_stations() is second  # nothing new: the same rows

    selectors._snapshots.clear()  # a process that starts: no query, the shared rows
    with django_assert_num_queries(0):
        shared = selectors.finder_stations()
    assert by_id(shared)[net.near.pk]["free"] == 0 and len(shared) == len(second)

    with django_capture_on_commit_callbacks(execute=True):
        services.listing_save(site=net.depot.site)  # the depot is listed now
    assert net.depot.pk in by_id(selectors.finder_stations())


def test_prices_are_cached_for_the_ranking(net):
    calls = []
    billing_price = selectors.price_for

    def counting(pk):
        calls.append(pk)
        return billing_price(pk)

    selectors.price_for, original = counting, selectors.price_for
    try:
        selectors.prices_for([net.near.pk, net.fast.pk])
        selectors.prices_for([net.near.pk, net.fast.pk])
    finally:
        selectors.price_for = original
    assert sorted(calls) == sorted([net.near.pk, net.fast.pk])  # once each


def test_a_station_in_a_queue_links_to_the_waitlists_join_page(net, alpha):
    group = WaitlistGroup.objects.create(site=net.near.site, name="Quay queue")
    group.stations.set([net.near])
    body = Client(HTTP_HOST=host_of(alpha)).get(f"/drivers/stations/{net.near.pk}/").content
    match = re.search(rb'id="join-queue"|href="(/waitlist/join/[^"]+)" id="join-queue"', body)
    assert match and match.group(1)
    join = Client(HTTP_HOST=host_of(alpha)).get(match.group(1).decode())
    assert join.status_code == 200 and b"Quay queue" in join.content
    other = Client(HTTP_HOST=host_of(alpha)).get(f"/drivers/stations/{net.fast.pk}/").content
    assert b"join-queue" not in other


def _synthetic_network(count: int, seed: int) -> list[dict]:
    """Stations over southern Québec (as the bench's), ports of every kind, some busy."""
    rng = random.Random(seed)
    kinds = [("cType2", 7.4), ("cType2", 22.0), ("cCCS1", 50.0), ("cCCS1", 150.0)]
    stations = []
    for n in range(count):
        kind, kw = kinds[n % 4]
        free = rng.choice([0, 0, 1, 2])
        stations.append(
            {
                "id": n + 1,
                "lat": rng.uniform(45.0, 47.0),
                "lon": rng.uniform(-74.5, -71.0),
                "ports": [[kind, kw, free, 2]],
                "access": "members" if n % 7 == 0 else "public",
                "open": n % 11 != 0,
            }
        )
    return stations


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_ranking_near_a_place_is_the_exhaustive_ranking(seed):
    """The grid visit (cells nearest first, stopping when no further cell can do better)
    gives exactly the exhaustive ranking: same stations, same order, same minutes."""
    stations = _synthetic_network(6000, seed)
    rng = random.Random(seed)
    queues = {rng.randrange(1, 6000): rng.randrange(1, 6) for _ in range(300)}
    places = [
        (45.5089, -73.5617),  # Montréal, inside the network
        (46.81, -71.21),  # Québec, near its edge
        (44.2, -76.0),  # outside it, within reach of the grid
        (48.85, 2.35),  # Paris: too far, ranked exhaustively
        (rng.uniform(45, 47), rng.uniform(-74.5, -71)),
    ]
    every = [
        Preferences(),
        Preferences(connector_type="cCCS1", min_kw=50, free_only=True),
        Preferences(public_only=True),
        Preferences(connector_type="cType2", free_only=True, public_only=True),
    ]
    for origin in places:
        for prefs in every:
            fast = rank(stations, origin=origin, prefs=prefs, price=lambda _: None, queues=queues)
            slow = rank(
                stations,
                origin=origin,
                prefs=prefs,
                price=lambda _: None,
                queues=queues,
                exhaustive=True,
            )
            assert [(r.station["id"], r.minutes) for r in fast] == [
                (r.station["id"], r.minutes) for r in slow
            ], (origin, prefs)
            assert len(fast) == 20


def test_the_grid_visit_looks_at_few_stations(monkeypatch):
    stations = _synthetic_network(6000, 4)
    looked = []
    real = selectors._score

    def counting(stations, positions, *args):
        positions = list(positions)
        looked.append(len(positions))
        return real(stations, positions, *args)

    monkeypatch.setattr(selectors, "_score", counting)
    rank(stations, origin=(45.5089, -73.5617), prefs=Preferences(), price=lambda _: None, queues={})
    assert 0 < sum(looked) < 600  # of 6,000
