"""Tips and photos: who may leave them, abuse limits, votes, moderation by the site's admins."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.drivers import services
from apps.drivers.choices import TipStatus
from apps.drivers.models import Driver, Tip, TipPhoto
from tests.conftest import host_of
from tests.drivers.test_accounts import signed_in

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_a_tip_with_a_photo_is_published_at_once(alpha, net, driver):
    client = signed_in(alpha, driver)
    photo = SimpleUploadedFile("p.png", PNG, content_type="image/png")
    response = client.post(
        f"/drivers/stations/{net.near.pk}/tips/",
        {"body": "Entrance on Rue de la Commune", "photo": photo},
    )
    assert response.status_code == 302
    tip = Tip.objects.get(station=net.near)
    assert tip.status == TipStatus.PUBLISHED and tip.driver == driver
    page = (
        Client(HTTP_HOST=host_of(alpha)).get(f"/drivers/stations/{net.near.pk}/").content.decode()
    )
    assert "Entrance on Rue de la Commune" in page
    photo_row = TipPhoto.objects.get(tip=tip)
    served = Client(HTTP_HOST=host_of(alpha)).get(f"/drivers/photos/{photo_row.pk}/")
    assert served["Content-Type"] == "image/png" and served.content == PNG


def test_a_file_that_is_not_an_image_is_refused_whatever_it_claims(alpha, net, driver):
    with pytest.raises(services.DriverError):
        services.tip_create(
            driver=driver,
            station=net.near,
            body="see photo",
            photos=[("image/png", b"<svg onload=x>")],
        )
    assert not Tip.objects.exists()


def test_an_unverified_driver_or_nobody_cannot_leave_tips(alpha, net, driver):
    Driver.objects.filter(pk=driver.pk).update(email_verified_at=None)
    driver.refresh_from_db()
    with pytest.raises(services.DriverError, match="Confirm"):
        services.tip_create(driver=driver, station=net.near, body="hello there")
    anonymous = Client(HTTP_HOST=host_of(alpha))
    response = anonymous.post(f"/drivers/stations/{net.near.pk}/tips/", {"body": "spam spam"})
    assert response.status_code == 302 and "/drivers/sign-in/" in response["Location"]
    assert not Tip.objects.exists()


def test_tips_are_limited_per_station_and_per_day(alpha, net, driver):
    services.tip_create(driver=driver, station=net.near, body="first tip")
    with pytest.raises(services.DriverError, match="just left"):
        services.tip_create(driver=driver, station=net.near, body="second tip")
    services.tip_create(driver=driver, station=net.fast, body="another station")
    for n in range(services.TIPS_PER_DAY - 2):
        Tip.objects.create(station=net.depot, driver=driver, body=f"earlier today {n}")
    with pytest.raises(services.DriverError, match="many tips"):
        services.tip_create(driver=driver, station=net.members, body="one too many")
    assert Tip.objects.filter(driver=driver).count() == services.TIPS_PER_DAY


def test_votes_rank_tips_and_enough_down_votes_hide_one_until_moderated(
    alpha, net, driver, owner_client
):
    tip = services.tip_create(driver=driver, station=net.near, body="Port 2 is flaky")
    with pytest.raises(services.DriverError):
        services.tip_vote(driver=driver, tip=tip, value=1)  # not one's own
    voters = [
        services.driver_sign_up(email=f"v{n}@example.com", password="x" * 12, verify_url="/TOKEN")
        for n in range(3)
    ]
    services.tip_vote(driver=voters[0], tip=tip, value=1)
    services.tip_vote(driver=voters[0], tip=tip, value=-1)  # a changed vote counts once
    assert Tip.objects.get(pk=tip.pk).score == -1
    for voter in voters[1:]:
        services.tip_vote(driver=voter, tip=tip, value=-1)
    tip.refresh_from_db()
    assert tip.score == -3 and tip.status == TipStatus.FLAGGED
    assert (
        "Port 2 is flaky"
        not in Client(HTTP_HOST=host_of(alpha))
        .get(f"/drivers/stations/{net.near.pk}/")
        .content.decode()
    )
    # the site admin reviews it in the portal and publishes it again; votes no longer hide it
    assert (
        "Port 2 is flaky"
        in owner_client.get("/drivers/manage/tips/?status=flagged").content.decode()
    )
    response = owner_client.post(f"/drivers/manage/tips/{tip.pk}/", {"action": "published"})
    assert response.status_code == 302
    tip.refresh_from_db()
    assert tip.status == TipStatus.PUBLISHED and tip.moderated_by is not None
    services.tip_vote(driver=voters[0], tip=tip, value=-1)
    assert Tip.objects.get(pk=tip.pk).status == TipStatus.PUBLISHED


def test_moderation_is_scoped_to_the_moderators_sites(alpha, net, driver, personas, client_for):
    from apps.roles.services import role_assign, role_by_slug

    tip = services.tip_create(driver=driver, station=net.near, body="Gate code 1234")
    delegate = personas.delegate  # another site only
    role_assign(user=delegate, role=role_by_slug("site-admin"), sites=[net.fast.site])
    client = client_for(delegate)
    assert "Gate code 1234" not in client.get("/drivers/manage/tips/").content.decode()
    assert client.post(f"/drivers/manage/tips/{tip.pk}/", {"action": "hidden"}).status_code == 404
    assert client_for(personas.outsider).get("/drivers/manage/tips/").status_code == 403
    assert Tip.objects.get(pk=tip.pk).status == TipStatus.PUBLISHED


@pytest.fixture
def owner_client(personas, client_for):
    return client_for(personas.owner)


def test_a_driver_deletes_their_own_tip_and_only_theirs(alpha, net, driver, other_driver):
    tip = services.tip_create(driver=driver, station=net.near, body="Use the north gate")
    other = signed_in_as(alpha, other_driver, "another long password")
    assert other.post(f"/drivers/tips/{tip.pk}/delete/").status_code == 404
    mine = signed_in(alpha, driver)
    assert mine.post(f"/drivers/tips/{tip.pk}/delete/").status_code == 302
    assert not Tip.objects.filter(pk=tip.pk).exists()


def test_deleting_the_account_keeps_tips_anonymous_unless_asked(alpha, net, driver, other_driver):
    kept = services.tip_create(driver=driver, station=net.near, body="Kept for others")
    services.driver_delete(driver=driver)
    kept.refresh_from_db()
    assert kept.driver is None and kept.status == TipStatus.PUBLISHED
    gone = services.tip_create(driver=other_driver, station=net.near, body="Take it with me")
    services.driver_delete(driver=other_driver, delete_tips=True)
    assert not Tip.objects.filter(pk=gone.pk).exists()


def signed_in_as(alpha, driver, password):
    client = Client(HTTP_HOST=host_of(alpha))
    assert (
        client.post("/drivers/sign-in/", {"email": driver.email, "password": password}).status_code
        == 302
    )
    return client
