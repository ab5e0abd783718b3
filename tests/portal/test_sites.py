"""Sites from the portal: create, edit, delete an empty one; through the services the API
calls; errors next to their fields; nobody changes a site outside their scope."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from apps.stations.models import Site
from tests.portal.factories import make_station

NEW_SITE = {
    "name": "Harbour Lot",
    "address": "1 Quay Street",
    "city": "Halifax",
    "region": "NS",
    "postal_code": "B3H 1A1",
    "country": "ca",
    "latitude": "44.648764",
    "longitude": "-63.575239",
    "timezone": "America/Halifax",
}


def test_owner_creates_a_site_with_coordinates_and_time_zone(personas, client_for):
    client = client_for(personas.owner)
    form = client.get(reverse("stations:site_create"))
    assert form.status_code == 200
    page = form.content.decode()
    assert 'id="site-map"' in page and "js/site_picker.js" in page
    assert 'value="America/Halifax"' in page  # the time zone list

    response = client.post(reverse("stations:site_create"), NEW_SITE)
    site = Site.objects.get(name="Harbour Lot")
    assert response.status_code == 302
    assert response["Location"] == reverse("stations:site_detail", args=[site.pk])
    assert (site.country, site.timezone) == ("CA", "America/Halifax")
    assert (site.latitude, site.longitude) == (Decimal("44.648764"), Decimal("-63.575239"))
    listing = client.get(reverse("stations:site_list")).content.decode()
    assert "Harbour Lot" in listing and reverse("stations:site_create") in listing


def test_errors_are_shown_next_to_their_fields(personas, client_for, alpha_sites):
    client = client_for(personas.owner)
    response = client.post(
        reverse("stations:site_create"),
        {**NEW_SITE, "name": "A1 Garage", "timezone": "Mars/Olympus", "latitude": "91"},
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) >= {"name", "timezone", "latitude"}
    assert not Site.objects.filter(timezone="Mars/Olympus").exists()

    half = client.post(reverse("stations:site_create"), {**NEW_SITE, "longitude": ""})
    assert half.status_code == 400 and "both the latitude" in half.content.decode()


def test_owner_edits_a_site(personas, client_for, alpha_sites):
    a1, _ = alpha_sites
    client = client_for(personas.owner)
    assert (
        'value="A1 Garage"'
        in client.get(reverse("stations:site_edit", args=[a1.pk])).content.decode()
    )
    response = client.post(
        reverse("stations:site_edit", args=[a1.pk]),
        {**NEW_SITE, "name": "A1 Garage (north)", "timezone": "Europe/Paris"},
    )
    assert response.status_code == 302
    a1.refresh_from_db()
    assert (a1.name, a1.timezone, a1.city) == ("A1 Garage (north)", "Europe/Paris", "Halifax")


def test_a_site_with_stations_is_not_deleted_an_empty_one_is(personas, client_for, alpha_sites):
    a1, a2 = alpha_sites
    make_station(a1, "A1-KEEP", statuses=("Available",))
    client = client_for(personas.owner)
    detail = client.get(reverse("stations:site_detail", args=[a1.pk])).content.decode()
    assert reverse("stations:site_delete", args=[a1.pk]) not in detail  # not offered

    refused = client.post(reverse("stations:site_delete", args=[a1.pk]), follow=True)
    assert Site.objects.filter(pk=a1.pk).exists()
    assert "move or retire them first" in refused.content.decode()

    assert (
        reverse("stations:site_delete", args=[a2.pk])
        in client.get(reverse("stations:site_detail", args=[a2.pk])).content.decode()
    )
    deleted = client.post(reverse("stations:site_delete", args=[a2.pk]))
    assert deleted.status_code == 302 and not Site.objects.filter(pk=a2.pk).exists()


def test_nobody_changes_a_site_they_do_not_manage(personas, client_for, alpha_sites):
    from apps.roles.models import Role
    from apps.roles.services import role_assign
    from tests.factories import UserFactory

    a1, a2 = alpha_sites
    # A site manager on A1 only: edits A1; A2 is a 404 (as if absent); creating a site (which
    # would be in nobody's scoped grant) needs the permission on every site.
    manager = UserFactory(email="a1-manager@alpha.test")
    role = Role.objects.create(
        slug="a1-site-manager", name="Site manager", permissions=["sites.view", "sites.manage"]
    )
    role_assign(user=manager, role=role, sites=[a1], granted_by=personas.owner)
    scoped = client_for(manager)
    assert scoped.get(reverse("stations:site_edit", args=[a1.pk])).status_code == 200
    assert scoped.post(reverse("stations:site_edit", args=[a2.pk]), NEW_SITE).status_code == 404
    assert scoped.post(reverse("stations:site_delete", args=[a2.pk])).status_code == 404
    assert scoped.post(reverse("stations:site_create"), NEW_SITE).status_code == 403
    listing = scoped.get(reverse("stations:site_list")).content.decode()
    assert reverse("stations:site_create") not in listing
    delegate = client_for(personas.delegate)  # sees A1, manages no site
    assert delegate.get(reverse("stations:site_edit", args=[a1.pk])).status_code == 403
    assert delegate.post(reverse("stations:site_delete", args=[a1.pk])).status_code == 403
    assert (
        reverse("stations:site_edit", args=[a1.pk])
        not in delegate.get(reverse("stations:site_detail", args=[a1.pk])).content.decode()
    )
    outsider = client_for(personas.outsider)
    assert outsider.get(reverse("stations:site_create")).status_code == 403
    assert outsider.post(reverse("stations:site_delete", args=[a1.pk])).status_code == 403
    anonymous = client_for(None)
    assert anonymous.post(reverse("stations:site_create"), NEW_SITE).status_code == 302
    assert (
        Site.objects.filter(pk=a2.pk).exists()
        and not Site.objects.filter(name="Harbour Lot").exists()
    )
    a1.refresh_from_db()
    assert a1.name == "A1 Garage"
