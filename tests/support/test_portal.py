"""The portal's support pages and the driver's pages, in English and French."""

from __future__ import annotations

import re

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.notifications.models import Notification
from apps.support import links, services
from apps.support.choices import CaseStatus, Source
from apps.support.models import CannedAnswer, Case


def open_form(**extra):
    data = {
        "category": "charge_failed",
        "subject": "Charging stopped",
        "description": "It stopped after a minute.",
        "name": "Ana",
        "email": "ana@example.org",
        "language": "en",
        "website": "",
    }
    data.update(extra)
    return data


def test_a_driver_opens_a_case_from_the_station_qr_code_and_confirms_it(client_for, desk):
    client = client_for()
    page = client.get("/support/help/", {"station": "SUP-A1"})
    assert page.status_code == 200 and "SUP-A1 name" in page.content.decode()
    response = client.post("/support/help/?station=SUP-A1", open_form())
    assert response.status_code == 200 and "Check your e-mail" in response.content.decode()
    case = Case.objects.get(requester_email="ana@example.org")
    assert case.status == CaseStatus.UNVERIFIED and case.station == desk.station_a1
    link = Notification.objects.get(kind="support.verify").context["link"]
    path = re.sub(r"^https?://[^/]+", "", link)
    assert client.get(path).status_code == 200  # asks for a click (mail scanners)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.UNVERIFIED
    follow = client.post(path)
    assert follow.status_code == 302
    assert Case.objects.get(pk=case.pk).status == CaseStatus.NEW
    public = client.get(follow["Location"])
    assert "It stopped after a minute." in public.content.decode()
    client.post(follow["Location"], {"body": "Any news?"})
    assert case.messages.count() == 2


def test_a_signed_receipt_link_opens_the_case_at_once(client_for, desk):
    path = links.sign_open_link(email="ana@example.org", session=desk.session_a1.pk, receipt="R-77")
    response = client_for().post(path, open_form())
    assert response.status_code == 302
    case = Case.objects.get(requester_email="ana@example.org")
    assert case.status == CaseStatus.NEW
    assert (case.session, case.receipt_number) == (desk.session_a1, "R-77")
    # the same link with another e-mail is not vouched for
    client_for().post(path, open_form(email="eve@example.org"))
    assert Case.objects.get(requester_email="eve@example.org").status == CaseStatus.UNVERIFIED


def test_opening_is_rate_limited_and_robots_are_refused(client_for, desk, settings):
    settings.SUPPORT_RATE_LIMITS = {"open_email": (2, 3600)}
    client = client_for()
    assert client.post("/support/help/", open_form()).status_code == 200
    assert client.post("/support/help/", open_form()).status_code == 200
    assert client.post("/support/help/", open_form()).status_code == 429
    assert Case.objects.count() == 2
    assert client.post("/support/help/", open_form(email="b@x.org", website="x")).status_code == 200
    assert Case.objects.count() == 2


def test_bad_public_links_are_404(client_for, db, alpha):
    client = client_for()
    assert client.get("/support/help/case/nonsense/").status_code == 404
    forged = signing.dumps({"case": 1, "k": "x"}, salt="other")
    assert client.get(f"/support/help/confirm/{forged}/").status_code == 404


def _case(desk, station):
    return services.case_open(
        requester_kind="driver",
        requester_email="ana@example.org",
        subject=f"Problem at {station.identity}",
        category="station_fault",
        description="Broken screen.",
        source=Source.PUBLIC,
        station=station,
    )


def test_staff_see_cases_of_their_sites_only(client_for, desk, personas):
    a1, a2 = _case(desk, desk.station_a1), _case(desk, desk.station_a2)
    owner = client_for(personas.owner).get("/support/")
    assert f'data-case="{a1.pk}"' in owner.content.decode()
    assert f'data-case="{a2.pk}"' in owner.content.decode()
    delegate = client_for(personas.delegate)
    listing = delegate.get("/support/").content.decode()
    assert f'data-case="{a1.pk}"' in listing and f'data-case="{a2.pk}"' not in listing
    assert delegate.get(f"/support/{a2.pk}/").status_code == 404
    assert delegate.post(f"/support/{a2.pk}/reply/", {"body": "x"}).status_code == 404
    assert client_for(personas.outsider).get("/support/").status_code == 403
    assert client_for(personas.other_tenant_user).get(f"/support/{a1.pk}/").status_code in (
        302,
        403,
        404,
    )


def test_staff_answer_with_a_canned_answer_and_resolve(client_for, desk, personas):
    case = _case(desk, desk.station_a1)
    owner = client_for(personas.owner)
    owner.post("/support/canned/new/", {"title": "Reset", "body": "We reset it.", "language": ""})
    assert CannedAnswer.objects.filter(title="Reset").exists()
    page = owner.get(f"/support/{case.pk}/").content.decode()
    assert 'data-body="We reset it."' in page
    owner.post(f"/support/{case.pk}/reply/", {"body": "We reset it.", "then": "resolved"})
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED and case.first_responded_at
    assert client_for(personas.delegate).get("/support/canned/new/").status_code == 403


def test_a_manager_asks_the_platform_for_help(client_for, desk, personas):
    delegate = client_for(personas.delegate)
    response = delegate.post(
        "/support/new/",
        {
            "category": "configuration",
            "priority": "normal",
            "subject": "How do I add a port?",
            "description": "Details...",
            "station": desk.station_a1.pk,
        },
    )
    case = Case.objects.get(subject="How do I add a port?")
    assert response["Location"] == f"/support/{case.pk}/"
    assert case.queue == "platform" and case.requester_user == personas.delegate
    delegate.post(f"/support/{case.pk}/followup/", {"body": "Also a second one."})
    assert case.messages.count() == 2


def test_settings_page_saves_business_hours(client_for, personas, db):
    owner = client_for(personas.owner)
    response = owner.post(
        "/support/settings/",
        {
            "business_opens": "06:00",
            "business_closes": "17:00",
            "business_timezone": "America/Vancouver",
            "business_days": ["0", "1", "2", "3", "4", "5"],
            "first_response_minutes": "120",
            "resolution_minutes": "2880",
            "team_email": "help@alpha.test",
        },
    )
    assert response.status_code == 302
    config = services.selectors.settings_get()
    assert config.business_timezone == "America/Vancouver" and config.business_days == [
        0,
        1,
        2,
        3,
        4,
        5,
    ]
    bad = owner.post("/support/settings/", {"business_timezone": "Mars/Base"})
    assert bad.status_code == 200


def test_the_pages_speak_french(client_for, desk, personas):
    _case(desk, desk.station_a1)
    client = client_for(personas.owner)
    client.cookies["django_language"] = "fr"
    page = client.get("/support/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Demander de l’aide" in page or "Demander de l'aide" in page
    anonymous = client_for()
    anonymous.cookies["django_language"] = "fr"
    public = anonymous.get("/support/help/").content.decode()
    assert "Obtenir de l’aide" in public or "Obtenir de l'aide" in public


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%test\n"


def upload(name: str, data: bytes, kind: str = "image/png"):
    return SimpleUploadedFile(name, data, content_type=kind)


def test_attachments_are_checked_stored_and_served_only_to_their_readers(
    client_for, desk, personas, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    path = links.sign_open_link(email="ana@example.org", station="SUP-A1")
    driver = client_for()
    # HTML under an image's name and type is refused (its first bytes say what it is).
    refused = driver.post(
        path, open_form(attachment=upload("screen.png", b"<html><script>x</script>"))
    )
    assert refused.status_code == 200 and "PDF" in refused.content.decode()
    assert not Case.objects.exists()
    opened = driver.post(path, open_form(attachment=upload("../screen shot.PNG", PNG)))
    assert opened.status_code == 302
    case = Case.objects.get()
    [photo] = case.attachments.all()
    assert (photo.name, photo.content_type, photo.size) == ("screen shot.png", "image/png", 72)
    assert "screen" not in photo.file.name and f"/{case.pk}/" in photo.file.name  # random name
    assert (tmp_path / photo.file.name).read_bytes() == PNG  # through the default storage
    public = driver.get(opened["Location"]).content.decode()
    public_file = f"{opened['Location']}attachments/{photo.pk}/"
    assert public_file in public
    served = driver.get(public_file)
    assert served.status_code == 200 and b"".join(served.streaming_content) == PNG
    assert served["Content-Type"] == "image/png" and served["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served["Content-Security-Policy"]

    # Staff: an internal note's PDF is theirs only; shown as a download.
    owner = client_for(personas.owner)
    owner.post(
        f"/support/{case.pk}/reply/",
        {"body": "Bank statement", "internal": "on", "attachment": upload("s.pdf", PDF, "x/y")},
    )
    note_file = case.attachments.get(content_type="application/pdf")
    staff_file = owner.get(f"/support/{case.pk}/attachments/{note_file.pk}/")
    assert staff_file.status_code == 200 and staff_file["Content-Disposition"].startswith(
        "attachment"
    )
    assert driver.get(f"{opened['Location']}attachments/{note_file.pk}/").status_code == 404
    assert owner.get(f"/support/{case.pk}/attachments/{photo.pk}/").status_code == 200
    # Another case's file through this case's URL, other sites' staff, nobody: nothing.
    other = _case(desk, desk.station_a2)
    delegate = client_for(personas.delegate)
    assert delegate.get(f"/support/{case.pk}/attachments/{photo.pk}/").status_code == 200
    assert owner.get(f"/support/{other.pk}/attachments/{photo.pk}/").status_code == 404
    assert client_for(personas.outsider).get(
        f"/support/{case.pk}/attachments/{photo.pk}/"
    ).status_code in (302, 403)
    assert client_for().get(f"/support/{case.pk}/attachments/{photo.pk}/").status_code in (
        302,
        403,
    )


def test_attachments_too_large_or_too_many_are_refused(desk, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    big = PNG + b"\x00" * services.ATTACHMENT_MAX_BYTES
    base = {
        "requester_kind": "driver",
        "requester_email": "ana@example.org",
        "subject": "x",
        "category": "station_fault",
        "description": "x",
        "source": Source.PUBLIC,
    }
    with pytest.raises(ValidationError) as error:
        services.case_open(**base, attachments=[upload("big.png", big)])
    assert "5 MB" in str(error.value)
    with pytest.raises(ValidationError):
        services.case_open(**base, attachments=[upload(f"{n}.png", PNG) for n in range(4)])
    assert not Case.objects.exists()
    case = services.case_open(**base, attachments=[upload(f"{n}.png", PNG) for n in range(3)])
    assert case.attachments.count() == 3
