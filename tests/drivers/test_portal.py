"""The site admin's pages: finder listings (scoped to their sites), card codes."""

from __future__ import annotations

from django.db import connection

from apps.drivers.cards import card_code
from apps.drivers.models import FinderListing
from apps.stations.services import site_create


def test_a_site_admin_lists_a_site_with_hours_and_the_finder_shows_it(
    alpha, personas, client_for, net
):
    site = site_create(
        name="New garage", latitude="45.6", longitude="-73.6", timezone="America/Montreal"
    )
    owner = client_for(personas.owner)
    page = owner.get("/drivers/manage/listings/new/").content.decode()
    assert "New garage" in page
    response = owner.post(
        "/drivers/manage/listings/new/",
        {
            "site": site.pk,
            "published": "on",
            "access": "members",
            "opens_at": "07:00",
            "closes_at": "19:00",
            "access_note": "Ring",
        },
    )
    assert response.status_code == 302
    listing = FinderListing.objects.get(site=site)
    assert listing.access == "members" and str(listing.opens_at) == "07:00:00"
    assert "New garage" in owner.get("/drivers/manage/listings/").content.decode()


def test_listings_are_scoped_to_the_admins_sites(alpha, personas, client_for, net):
    from apps.roles.services import role_assign, role_by_slug

    delegate = personas.delegate
    role_assign(user=delegate, role=role_by_slug("site-admin"), sites=[net.fast.site])
    client = client_for(delegate)
    body = client.get("/drivers/manage/listings/").content.decode()
    assert net.fast.site.name in body and net.near.site.name not in body
    other = FinderListing.objects.get(site=net.near.site)
    assert (
        client.post(f"/drivers/manage/listings/{other.pk}/", {"published": ""}).status_code == 404
    )
    assert client.post(f"/drivers/manage/listings/{other.pk}/delete/").status_code == 404
    assert client_for(personas.outsider).get("/drivers/manage/listings/").status_code == 403


def test_card_codes_for_printing(alpha, personas, client_for, card):
    body = (
        client_for(personas.owner)
        .get("/drivers/manage/card-codes/", {"q": card.uid})
        .content.decode()
    )
    assert card_code(schema_name=connection.schema_name, uid=card.uid) in body
    assert client_for(personas.outsider).get("/drivers/manage/card-codes/").status_code == 403
