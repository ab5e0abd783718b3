"""The portal's queue pages (site admins) and the driver's pages (signed links, no sign-in)."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.urls import reverse

from apps.charging import services as charging
from apps.waitlist import services, views
from apps.waitlist.choices import EntryStatus
from apps.waitlist.models import WaitlistEntry, WaitlistGroup
from tests.conftest import host_of


def linked_entry(url: str) -> int:
    """The entry a driver link points to (links are timestamped: compare what they sign)."""
    return views._signed(url.rstrip("/").rsplit("/", 1)[1], views.ENTRY_SALT, "entry")


def test_site_admins_define_queues_and_see_who_waits(personas, client_for, group, tokens):
    owner = client_for(personas.owner)
    listing = owner.get(reverse("waitlist:group_list"))
    assert listing.status_code == 200 and "Level 2" in listing.content.decode()
    stations = list(group.stations.values_list("pk", flat=True))
    response = owner.post(
        f"{reverse('waitlist:group_create')}?site={group.site_id}",
        {
            "name": "Roof",
            "stations": stations[:1],
            "hold_minutes": 7,
            "max_no_shows": 3,
            "is_active": "on",
        },
    )
    roof = WaitlistGroup.objects.get(name="Roof")
    assert response.url == reverse("waitlist:group_detail", args=[roof.pk])
    assert (
        roof.hold_minutes == 7 and list(roof.stations.values_list("pk", flat=True)) == stations[:1]
    )
    detail = owner.get(reverse("waitlist:group_detail", args=[group.pk]))
    assert detail.status_code == 200


def test_people_without_the_permission_see_no_queue(personas, client_for, group):
    assert client_for(personas.outsider).get(reverse("waitlist:group_list")).status_code == 403
    delegate = client_for(personas.delegate)  # no waitlist.view in their role
    assert delegate.get(reverse("waitlist:group_detail", args=[group.pk])).status_code == 403


def test_a_driver_joins_from_the_queue_page_follows_their_place_and_leaves(alpha, group, tokens):
    phone = Client(HTTP_HOST=host_of(alpha))
    join_url = views.join_link(group)
    assert phone.get(join_url).status_code == 200
    response = phone.post(
        join_url,
        {"token_uid": tokens[0].uid, "email": "d@example.org", "phone": "", "language": "fr"},
    )
    entry = WaitlistEntry.objects.get(token_uid=tokens[0].uid)
    assert linked_entry(response.url) == entry.pk
    # no place before the card is tapped at a station of the queue (the proof it is theirs)
    assert entry.status == EntryStatus.UNCONFIRMED
    assert "Tap your card" in phone.get(response.url).content.decode()
    other_station = group.stations.order_by("pk").last()
    assert charging.authorize(uid=tokens[0].uid, station_id=other_station.pk).accepted
    entry.refresh_from_db()
    assert entry.status == EntryStatus.WAITING
    page = phone.get(response.url)
    assert page.status_code == 200
    assert "You are number 1" in page.content.decode()
    assert "<script>" not in page.content.decode()  # no inline script (CSP)
    phone.post(response.url)
    entry.refresh_from_db()
    assert entry.status == EntryStatus.LEFT
    # a refused card is told so and joins nothing
    refused = phone.post(join_url, {"token_uid": "NOT-A-CARD", "language": "en"})
    assert "may not charge" in refused.content.decode()


def test_a_tampered_link_shows_nothing(alpha, group):
    phone = Client(HTTP_HOST=host_of(alpha))
    link = views.join_link(group)
    assert phone.get(link[:-3] + "xyz/").status_code == 404
    assert phone.get(reverse("waitlist:driver", args=["nope"])).status_code == 404


def test_the_driver_page_speaks_french(alpha, group, tokens, settings):
    from apps.waitlist.services import entry_join

    entry = entry_join(group=group, token_uid=tokens[0].uid, via="page", language="fr")
    phone = Client(HTTP_HOST=host_of(alpha))
    phone.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    page = phone.get(views.driver_link(entry)).content.decode()
    assert "Vous êtes numéro 1" in page and "Quitter la file" in page


def test_the_station_page_shows_its_queue(personas, client_for, group, tokens):
    from apps.waitlist.services import entry_join

    entry_join(group=group, token_uid=tokens[0].uid, via="page")
    station = group.stations.order_by("pk").first()
    page = client_for(personas.owner).get(reverse("stations:station_detail", args=[station.pk]))
    html = page.content.decode()
    assert reverse("waitlist:group_detail", args=[group.pk]) in html and "1 waiting" in html


def test_a_card_number_typed_by_someone_else_takes_nobodys_place(alpha, group, tokens):
    """The public page proves the card by a tap: typing another driver's card number neither
    opens their place's page nor queues the card, and the untapped entry lapses."""
    owner = services.entry_join(group=group, token_uid=tokens[1].uid, via="tap")
    stranger = Client(HTTP_HOST=host_of(alpha))
    response = stranger.post(
        views.join_link(group),
        {"token_uid": tokens[1].uid, "email": "x@example.org", "language": "en"},
    )
    assert response.status_code == 302 and linked_entry(response.url) != owner.pk
    unconfirmed = WaitlistEntry.objects.get(token_uid=tokens[1].uid, email="x@example.org")
    assert unconfirmed.status == EntryStatus.UNCONFIRMED
    stranger.post(response.url)  # "leave": only their own unconfirmed entry
    owner.refresh_from_db()
    assert owner.status == EntryStatus.WAITING
    # a card nobody taps: no place, never promoted, lapses after CONFIRM_MINUTES
    stranger.post(views.join_link(group), {"token_uid": tokens[2].uid, "language": "en"})
    lapsing = WaitlistEntry.objects.get(token_uid=tokens[2].uid)
    assert services.entry_confirm(token_uid=tokens[2].uid, station_id=0) is None
    assert lapsing.status == EntryStatus.UNCONFIRMED
    later = lapsing.confirm_by + dt.timedelta(seconds=1)
    assert services.lapse_unconfirmed(now=later) == 1
    lapsing.refresh_from_db()
    assert lapsing.status == EntryStatus.LEFT
    # the lapsed entry is not confirmed by a late tap
    station = group.stations.order_by("pk").first()
    charging.authorize(uid=tokens[2].uid, station_id=station.pk)
    lapsing.refresh_from_db()
    assert lapsing.status == EntryStatus.LEFT


def test_a_tap_confirms_the_page_join_and_keeps_the_cards_place(alpha, group, tokens):
    """The owner taps after joining from the page while already queued: one place, with the
    contact details the tap proved."""
    owner = services.entry_join(group=group, token_uid=tokens[0].uid, via="tap")
    phone = Client(HTTP_HOST=host_of(alpha))
    phone.post(
        views.join_link(group),
        {"token_uid": tokens[0].uid, "email": "me@example.org", "language": "fr"},
    )
    station = group.stations.order_by("pk").first()
    charging.authorize(uid=tokens[0].uid, station_id=station.pk)
    owner.refresh_from_db()
    assert owner.status == EntryStatus.WAITING and owner.email == "me@example.org"
    assert owner.language == "fr"
    assert WaitlistEntry.objects.filter(token_uid=tokens[0].uid, status="waiting").count() == 1
