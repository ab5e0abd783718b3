"""Joining and leaving queues from the driver's account: the waitlist answers through the
core's policies (DRIVER_QUEUES, DRIVER_QUEUE_JOIN, DRIVER_QUEUE_LEAVE); drivers never import
it."""

from __future__ import annotations

from django.test import Client
from django.utils import timezone

from apps.drivers.choices import CardStatus
from apps.drivers.models import DriverCard
from apps.waitlist import services as waitlist
from apps.waitlist.choices import EntryStatus
from apps.waitlist.models import WaitlistEntry
from tests.conftest import host_of

PASSWORD = "a long driver password"


def signed_in(alpha, driver, password=PASSWORD) -> Client:
    client = Client(HTTP_HOST=host_of(alpha))
    response = client.post("/drivers/sign-in/", {"email": driver.email, "password": password})
    assert response.status_code == 302
    return client


def verified(driver, token) -> DriverCard:
    return DriverCard.objects.create(
        driver=driver,
        token=token,
        status=CardStatus.VERIFIED,
        verified_by="code",
        requested_at=timezone.now(),
        verified_at=timezone.now(),
    )


def test_a_driver_joins_and_leaves_a_queue_from_their_account(alpha, net, driver, card):
    group = waitlist.group_create(site=net.near.site, stations=[net.near], name="Quay queue")
    mine = verified(driver, card)
    client = signed_in(alpha, driver)
    station_page = client.get(f"/drivers/stations/{net.near.pk}/").content.decode()
    assert 'id="queue-join-form"' in station_page

    joined = client.post(f"/drivers/account/queues/join/{net.near.pk}/", {"card": mine.pk})
    assert joined.status_code == 302
    entry = WaitlistEntry.objects.get(group=group, token_uid=card.uid)
    assert entry.status == EntryStatus.WAITING  # a verified card: no tap asked
    account = client.get("/drivers/account/").content.decode()
    assert f'data-entry="{entry.pk}"' in account and "Quay queue" in account
    assert "number 1" in account
    assert (
        "You are number 1 in the queue."
        in client.get(f"/drivers/stations/{net.near.pk}/").content.decode()
    )

    client.post(f"/drivers/account/queues/{entry.pk}/leave/")
    entry.refresh_from_db()
    assert entry.status == EntryStatus.LEFT
    assert f'data-entry="{entry.pk}"' not in client.get("/drivers/account/").content.decode()


def test_nobody_else_leaves_a_drivers_place_and_unproved_cards_do_not_join(
    alpha, net, driver, other_driver, card
):
    group = waitlist.group_create(site=net.near.site, stations=[net.near], name="Quay queue")
    mine = verified(driver, card)
    signed_in(alpha, driver).post(f"/drivers/account/queues/join/{net.near.pk}/", {"card": mine.pk})
    entry = WaitlistEntry.objects.get(group=group, token_uid=card.uid)

    other = signed_in(alpha, other_driver, "another long password")
    other.post(f"/drivers/account/queues/{entry.pk}/leave/")
    entry.refresh_from_db()
    assert entry.status == EntryStatus.WAITING
    assert f'data-entry="{entry.pk}"' not in other.get("/drivers/account/").content.decode()
    # another driver's card, by its id: not found
    assert (
        other.post(f"/drivers/account/queues/join/{net.near.pk}/", {"card": mine.pk}).status_code
        == 404
    )
    # a pending card: not found either (only proved cards take a place)
    pending = DriverCard.objects.create(
        driver=other_driver,
        token=card.__class__.objects.create(uid="PENDING1"),
        status=CardStatus.PENDING,
        requested_at=timezone.now(),
    )
    assert (
        other.post(f"/drivers/account/queues/join/{net.near.pk}/", {"card": pending.pk}).status_code
        == 404
    )
    # a station without a queue: told so, nothing joined
    verified(other_driver, card.__class__.objects.create(uid="OTHER1"))
    card_b = DriverCard.objects.get(token__uid="OTHER1")
    response = other.post(f"/drivers/account/queues/join/{net.fast.pk}/", {"card": card_b.pk})
    assert response.status_code == 302
    assert not WaitlistEntry.objects.filter(token_uid="OTHER1").exists()
    # nobody signed in: sent to sign in
    anonymous = Client(HTTP_HOST=host_of(alpha))
    assert anonymous.post(f"/drivers/account/queues/{entry.pk}/leave/").status_code == 302
    entry.refresh_from_db()
    assert entry.status == EntryStatus.WAITING
