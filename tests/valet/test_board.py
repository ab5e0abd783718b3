"""The valet board: finished sessions (EV suspended, station finishing, ended but still
plugged in), longest idle first, with the next driver waiting; the valet role sees its sites'
boards and nothing else; acting on a car."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.charging import services as charging
from apps.charging.models import IdToken
from apps.notifications.models import Notification
from apps.stations.models import Evse
from apps.stations.services import station_register
from apps.valet import selectors, services
from apps.valet.models import CarMove
from apps.waitlist.models import WaitlistGroup
from apps.waitlist.services import entry_join


def session_on(site, *, uid, finished_minutes_ago=None, port_status="Charging"):
    station = station_register(identity=f"VAL-{uuid.uuid4().hex[:8]}", password=None, site=site)
    IdToken.objects.get_or_create(uid=uid)
    now = timezone.now()
    session, _ = charging.session_start(
        station_id=station.pk,
        evse_id=1,
        id_token=uid,
        meter_start_wh=0,
        started_at=now - dt.timedelta(hours=2),
    )
    Evse.objects.filter(station=station).update(status=port_status)
    if finished_minutes_ago is not None:
        charging.session_note_charging_state(
            station_id=station.pk,
            evse_id=1,
            state="SuspendedEV",
            at=now - dt.timedelta(minutes=finished_minutes_ago),
        )
    return session


@pytest.fixture
def board(alpha, alpha_sites):
    a1, a2 = alpha_sites
    return {
        "long": session_on(a1, uid="LONG1", finished_minutes_ago=50, port_status="SuspendedEV"),
        "short": session_on(a1, uid="SHORT1", finished_minutes_ago=5, port_status="SuspendedEV"),
        "charging": session_on(a1, uid="STILL1"),
        "other_site": session_on(a2, uid="FAR1", finished_minutes_ago=30),
    }


def test_the_board_lists_finished_cars_longest_idle_first_with_the_next_driver(
    personas, board, alpha_sites
):
    long_session = board["long"]
    group = WaitlistGroup.objects.create(site=alpha_sites[0], name="Ground floor")
    group.stations.add(long_session.station)
    entry_join(group=group, token_uid="LONG1X", via="api", check_access=False)
    rows = selectors.board_rows(actor=_actor(personas.owner), site_id=alpha_sites[0].pk)
    assert [row.session.pk for row in rows] == [board["long"].pk, board["short"].pk]
    assert 49 <= rows[0].idle_minutes <= 51
    assert rows[0].next_driver["waiting"] == 1
    assert rows[1].next_driver is None


def test_a_valet_sees_the_board_of_their_site_only_and_nothing_else(
    valet, client_for, board, alpha_sites
):
    client = client_for(valet)
    a1, a2 = alpha_sites
    assert client.get(reverse("valet:home")).url == reverse("valet:board", args=[a1.pk])
    page = client.get(reverse("valet:board", args=[a1.pk]))
    assert page.status_code == 200
    assert f'data-session="{board["long"].pk}"' in page.content.decode()
    assert client.get(reverse("valet:board", args=[a2.pk])).status_code == 404
    assert client.post(reverse("valet:car_moved", args=[board["other_site"].pk])).status_code == 404
    # the valet role is the board: no sessions list, no billing, no people
    for name in ("charging:session_list", "billing:tariff_list", "audit:entry_list"):
        assert client.get(reverse(name)).status_code == 403, name


def test_people_without_the_valet_permission_get_no_board(personas, client_for, alpha_sites):
    client = client_for(personas.outsider)
    assert client.get(reverse("valet:board", args=[alpha_sites[0].pk])).status_code == 403


def test_marking_moved_asking_the_driver_and_reassigning(valet, client_for, board, alpha_sites):
    from apps.notifications.services import contact_update

    contact_update(key="token:LONG1", email="long@example.org")
    client = client_for(valet)
    session = board["long"]
    client.post(reverse("valet:driver_notify", args=[session.pk]))
    client.post(reverse("valet:driver_notify", args=[session.pk]))  # twice: one message
    assert Notification.objects.filter(event_key=f"valet:{session.pk}:move").count() == 1
    client.post(reverse("valet:car_assign", args=[session.pk]), {"user": valet.pk})
    assert CarMove.objects.get(session=session).assigned_to == valet
    client.post(reverse("valet:car_moved", args=[session.pk]))
    rows = selectors.board_rows(actor=_actor(valet), site_id=alpha_sites[0].pk)
    assert [row.session.pk for row in rows] == [board["short"].pk]


def test_a_delegate_without_valet_act_cannot_act(personas, board):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.car_moved(actor=_actor(personas.fleet_manager), session=board["long"])


def _actor(user):
    from apps.roles.selectors import UserActor

    return UserActor(user)


def test_the_site_page_links_to_its_board_for_the_valet(valet, personas, client_for, alpha_sites):
    url = reverse("stations:site_detail", args=[alpha_sites[0].pk])
    board = reverse("valet:board", args=[alpha_sites[0].pk])
    assert board in client_for(valet).get(url).content.decode()
    assert board not in client_for(personas.delegate).get(url).content.decode()
