"""No N+1: every list page and the station page cost the same number of queries with 100
stations as with 10."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.monitoring.models import Alert
from apps.stations.models import StatusChange
from tests.portal.factories import add_power, make_session, make_station


def grow(site, count: int, start: int) -> None:
    """``count`` more stations, each with two ports, a session, an alert and some history."""
    now = timezone.now()
    for number in range(start, start + count):
        station = make_station(
            site, f"Q-{number:04d}", statuses=("Charging", "Available"), online=number % 3 != 0
        )
        session = make_session(station, token=f"TOK-{number}", energy_wh=1000 + number)
        add_power(session, at=now - dt.timedelta(minutes=5), watts=7000)
        Alert.objects.create(station=station, kind="offline", message="gone")
        StatusChange.objects.create(
            station=station,
            kind="connection",
            status="Online",
            occurred_at=now - dt.timedelta(days=2),
        )


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(context.captured_queries)


LIST_PAGES = [
    ("dashboard:home", None),
    ("dashboard:map", None),
    ("stations:site_list", None),
    ("stations:station_list", None),
    ("stations:station_list", "status=charging&ordering=-site"),
    ("charging:session_list", None),
    ("charging:session_export", None),
    ("monitoring:alert_list", None),
    ("monitoring:uptime", None),
    ("roles:assignment_list", None),
]


@pytest.mark.parametrize("name,query", LIST_PAGES, ids=[f"{n}?{q or ''}" for n, q in LIST_PAGES])
def test_list_pages_cost_the_same_for_10_and_100_stations(
    name, query, personas, alpha_sites, client_for
):
    client = client_for(personas.owner)
    url = reverse(name) + (f"?{query}" if query else "")
    grow(alpha_sites[0], 10, 0)
    small = count_queries(client, url)
    grow(alpha_sites[1], 90, 10)
    large = count_queries(client, url)
    assert small == large, f"{url}: {small} queries with 10 stations, {large} with 100"


def test_station_page_costs_the_same_with_many_ports_and_sessions(
    personas, alpha_sites, client_for
):
    client = client_for(personas.owner)
    few = make_station(alpha_sites[0], "FEW", statuses=("Charging",))
    many = make_station(alpha_sites[0], "MANY", statuses=("Charging",) * 8)
    for station, ports in ((few, 1), (many, 8)):
        for evse_id in range(1, ports + 1):
            session = make_session(station, evse_id=evse_id, token=f"T{evse_id}")
            add_power(session, at=timezone.now(), watts=3000)
    small = count_queries(client, reverse("stations:station_detail", args=[few.pk]))
    large = count_queries(client, reverse("stations:station_detail", args=[many.pk]))
    assert small == large
