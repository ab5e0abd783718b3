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


def test_the_board_shows_the_idle_fee_accruing_as_billing_prices_it(
    personas, client_for, board, alpha_sites
):
    from decimal import Decimal

    from apps.billing import services as billing
    from apps.core import policies

    tariff = billing.tariff_create(
        name="Idle",
        definition={
            "currency": "CAD",
            "idle": {
                "price_per_hour": "12.00",
                "grace_minutes": 15,
                "step_seconds": 60,
                "max_amount": "20.00",
            },
        },
        effective_from=timezone.now() - dt.timedelta(days=1),
    )
    billing.tariff_assign(tariff=tariff, site=alpha_sites[0])
    long_session = board["long"]
    long_session.refresh_from_db()
    ended = long_session.charging_ended_at
    whole = ended.replace(microsecond=0)  # billing prices whole seconds

    def fee(minutes_after_charging: float) -> dict:
        at = ended + dt.timedelta(minutes=minutes_after_charging)
        fees = policies.ask(policies.SESSION_IDLE_FEES, session_ids=[long_session.pk], at=at)
        return fees[long_session.pk]

    # 15 minutes of grace, then 12.00/h per started minute
    assert fee(10)["amount"] == Decimal("0.00")
    assert fee(10)["next_change_at"] == whole + dt.timedelta(minutes=15, seconds=1)
    assert fee(50)["amount"] == Decimal("7.00")  # 35 minutes
    assert fee(50)["next_change_at"] == whole + dt.timedelta(minutes=51, seconds=1)
    assert fee(50.5)["amount"] == Decimal("7.20")  # a started minute counts
    capped = fee(180)
    assert capped["amount"] == Decimal("20.00") and not capped["accruing"]
    assert capped["next_change_at"] is None

    rows = selectors.board_rows(actor=_actor(personas.owner), site_id=alpha_sites[0].pk)
    assert rows[0].idle_fee["accruing"] and rows[0].idle_fee["currency"] == "CAD"
    assert selectors.next_fee_change(rows) > timezone.now()
    page = client_for(personas.owner).get(reverse("valet:board", args=[alpha_sites[0].pk]))
    html = page.content.decode()
    assert "(accruing)" in html and "data-next-change=" in html
    assert f"{rows[0].idle_fee['amount']} CAD" in html
