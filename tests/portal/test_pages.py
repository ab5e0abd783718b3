"""What the inventory and session pages show: filters, sorting, search, pagination, export."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.monitoring.models import Alert
from apps.ocpp.models import MessageLog, StationEvent
from tests.portal.factories import add_power, make_session, make_station


def identities(response) -> list[str]:
    return [station.identity for station in response.context["object_list"]]


@pytest.mark.parametrize(
    "query,expected",
    [
        ("", ["A1-CHARGER-1", "A1-CHARGER-2", "A2-CHARGER-1"]),
        ("status=faulted", ["A1-CHARGER-2"]),
        ("status=charging", ["A1-CHARGER-1"]),
        ("vendor=grizzl-e", ["A1-CHARGER-2"]),
        ("protocol=2.0.1", ["A2-CHARGER-1"]),
        ("q=a2-", ["A2-CHARGER-1"]),
        ("online=false", []),
        ("model=Terra+AC&firmware=1.4.2", ["A1-CHARGER-1", "A1-CHARGER-2", "A2-CHARGER-1"]),
        ("ordering=-identity", ["A2-CHARGER-1", "A1-CHARGER-2", "A1-CHARGER-1"]),
    ],
)
def test_station_list_filters_search_and_sorting(network, personas, client_for, query, expected):
    response = client_for(personas.owner).get(reverse("stations:station_list") + "?" + query)
    assert identities(response) == expected


def test_station_list_filters_by_site_and_paginates(network, personas, alpha_sites, client_for):
    client = client_for(personas.owner)
    response = client.get(reverse("stations:station_list") + f"?site_id={alpha_sites[1].pk}")
    assert identities(response) == ["A2-CHARGER-1"]
    for number in range(60):
        make_station(alpha_sites[1], f"BULK-{number:03d}")
    response = client.get(reverse("stations:station_list") + f"?site_id={alpha_sites[1].pk}")
    assert len(response.context["object_list"]) == 50
    html = response.content.decode()
    assert f"site_id={alpha_sites[1].pk}&amp;page=2" in html  # the next page keeps the filter
    second = client.get(reverse("stations:station_list") + f"?site_id={alpha_sites[1].pk}&page=2")
    assert len(second.context["object_list"]) == 11


def test_sort_header_toggles_direction(network, personas, client_for):
    html = client_for(personas.owner).get(reverse("stations:station_list") + "?ordering=vendor")
    assert "?ordering=-vendor" in html.content.decode()


def test_site_list_counts_stations(network, personas, client_for):
    response = client_for(personas.owner).get(reverse("stations:site_list"))
    counts = {
        site.name: (site.station_count, site.online_count)
        for site in response.context["object_list"]
    }
    assert counts == {"A1 Garage": (2, 2), "A2 Depot": (1, 1)}


def test_station_page_shows_everything_about_the_station(network, personas, client_for):
    station = network.a1_station
    now = timezone.now()
    MessageLog.objects.create(
        station=station,
        direction="in",
        message_type=2,
        unique_id="u1",
        action="Heartbeat",
        payload={},
        created_at=now,
    )
    StationEvent.objects.create(
        station=station,
        kind="firmware",
        action="FirmwareStatusNotification",
        status="Installed",
        occurred_at=now,
    )
    Alert.objects.create(station=station, kind="offline", message="Lost the link")
    add_power(network.a1_session, at=now - dt.timedelta(minutes=2), watts=6500)
    make_session(
        station,
        token="OLD-TOKEN",
        started_at=now - dt.timedelta(days=1),
        ended_at=now - dt.timedelta(hours=20),
        energy_wh=12345,
    )
    response = client_for(personas.owner).get(reverse("stations:station_detail", args=[station.pk]))
    html = response.content.decode()
    for text in (
        "Heartbeat",
        "Installed",
        "Lost the link",
        "OLD-TOKEN",
        "12.345 kWh",
        "A1-TOKEN",
        'data-evse="2"',
        'id="remote-control"',
        'name="reset-reset_type"',
        '"stationUrl"',
    ):
        assert text in html, text
    series = response.context["power_series"][str(network.a1_session.pk)]
    assert series[-1][1] == 6500.0


def test_station_page_without_sessions_permission_hides_them(network, alpha_sites, client_for):
    from apps.roles.models import Role
    from apps.roles.services import role_assign
    from tests.factories import UserFactory

    role = Role.objects.create(slug="look", name="Look", permissions=["stations.view"])
    user = UserFactory(email="look@alpha.test")
    role_assign(user=user, role=role, all_sites=True)
    html = (
        client_for(user)
        .get(reverse("stations:station_detail", args=[network.a1_station.pk]))
        .content.decode()
    )
    assert "A1-TOKEN" not in html and "You may not see charging sessions" in html


def test_message_log_filters(network, personas, client_for):
    station = network.a1_station
    now = timezone.now()
    for action, direction in (("Heartbeat", "in"), ("Reset", "out"), ("StatusNotification", "in")):
        MessageLog.objects.create(
            station=station,
            direction=direction,
            message_type=2,
            action=action,
            payload={},
            created_at=now,
        )
    client = client_for(personas.owner)
    url = reverse("stations:station_messages", args=[station.pk])
    assert [m.action for m in client.get(url + "?direction=out").context["object_list"]] == [
        "Reset"
    ]
    assert [m.action for m in client.get(url + "?action=heartbeat").context["object_list"]] == [
        "Heartbeat"
    ]


def test_session_list_filters_and_csv_export(network, personas, alpha_sites, client_for):
    now = timezone.now()
    old = make_session(
        network.a2_station,
        token="=cmd|' /C calc'!A0",
        started_at=now - dt.timedelta(days=10),
        ended_at=now - dt.timedelta(days=10) + dt.timedelta(hours=1),
        energy_wh=999,
    )
    client = client_for(personas.owner)
    url = reverse("charging:session_list")
    day = timezone.localdate(now - dt.timedelta(days=10)).isoformat()
    response = client.get(url + f"?started_after={day}&started_before={day}")
    assert [s.pk for s in response.context["object_list"]] == [old.pk]
    response = client.get(url + f"?site_id={alpha_sites[0].pk}")
    assert [s.id_token for s in response.context["object_list"]] == ["A1-TOKEN"]
    response = client.get(url + "?token=a2-token")
    assert [s.id_token for s in response.context["object_list"]] == ["A2-TOKEN"]
    export = client.get(reverse("charging:session_export") + f"?site_id={alpha_sites[1].pk}")
    assert export["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert {row["token"] for row in rows} == {"A2-TOKEN", "'=cmd|' /C calc'!A0"}
    assert {row["site"] for row in rows} == {"A2 Depot"}
    assert {row["energy_wh"] for row in rows} == {"7100", "999"}


def test_session_page_shows_the_power_curve(network, personas, client_for):
    now = timezone.now()
    add_power(network.a1_session, at=now - dt.timedelta(minutes=3), watts=2000, phase="L1")
    add_power(network.a1_session, at=now - dt.timedelta(minutes=3), watts=2100, phase="L2")
    response = client_for(personas.owner).get(
        reverse("charging:session_detail", args=[network.a1_session.pk])
    )
    series = response.context["power_series"][str(network.a1_session.pk)]
    assert series == [[pytest.approx((now - dt.timedelta(minutes=3)).timestamp()), 4100.0]]


def test_filters_are_compact_and_named_for_people(network, personas, client_for):
    html = client_for(personas.owner).get(reverse("stations:station_list") + "?status=faulted")
    html = html.content.decode()
    assert '<label for="id_site_id">Site</label>' in html
    assert '<select name="status" id="id_status">' in html
    assert '<option value="faulted" selected>' in html
