"""The portal's queue pages (site admins) and the driver's pages (signed links, no sign-in)."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from apps.waitlist import views
from apps.waitlist.choices import EntryStatus
from apps.waitlist.models import WaitlistEntry, WaitlistGroup
from tests.conftest import host_of


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
            "no_show_fee": "0",
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
    assert response.url == views.driver_link(entry)
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
