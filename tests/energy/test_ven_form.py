"""Setting up a VEN in the portal: create with certificate and key uploaded (the key stored
encrypted, never shown back), edit keeping the key, a key of another certificate refused on its
field, testing the connection against a real VTN, deleting (the limits end), audited, in French,
and nobody without energy.manage on the site gets in."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from apps.audit.models import AuditEntry
from apps.energy import openadr
from apps.energy.models import Ven
from tests.energy.conftest import make_certificates


@pytest.fixture(scope="module")
def pems(tmp_path_factory):
    first = make_certificates(tmp_path_factory.mktemp("ven-form-a"))
    other = make_certificates(tmp_path_factory.mktemp("ven-form-b"))
    return first, other


def upload(path, name=None):
    return SimpleUploadedFile(name or path.name, path.read_bytes(), "application/x-pem-file")


def fields(garage, **more):
    return {
        "name": "Hydro DR",
        "node": garage.supply.pk,
        "vtn_url": "https://vtn.example/OpenADR2/Simple/2.0b",
        "ven_name": "garage-portal",
        "ven_id": "",
        "vtn_fingerprint": "",
        "poll_seconds": 10,
        "default_opt": "optIn",
        "level_1_percent": "75",
        "level_2_percent": "40",
        "level_3_percent": "20",
        "randomize": "on",
        "is_active": "on",
        **more,
    }


def test_a_site_admin_creates_a_ven_with_uploaded_certificates(personas, client_for, garage, pems):
    folder, _other = pems
    client = client_for(personas.owner)
    create = reverse("energy:ven_create") + f"?site={garage.site.pk}"
    assert client.get(create).status_code == 200

    response = client.post(
        create,
        fields(
            garage,
            client_cert_file=upload(folder / "ven.pem"),
            client_key_file=upload(folder / "ven.key"),
            vtn_ca_file=upload(folder / "ca.pem"),
        ),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    ven = Ven.objects.get(ven_name="garage-portal")
    assert ven.site == garage.site and ven.level_2_percent == Decimal("40")
    key = (folder / "ven.key").read_text()
    assert ven.client_key_pem.strip() == key.strip()
    with connection.cursor() as cursor:
        cursor.execute("SELECT client_key_encrypted FROM energy_ven WHERE id = %s", [ven.pk])
        assert "PRIVATE KEY" not in cursor.fetchone()[0]
    page = client.get(response.url).content.decode()
    assert openadr.fingerprint((folder / "ven.pem").read_text()) in page
    assert key.splitlines()[1] not in page and "PRIVATE KEY" not in page
    entry = AuditEntry.objects.get(action="energy_ven.create", object_id=str(ven.pk))
    assert entry.changes["client_key_pem"] == [None, "(set)"]
    assert key.splitlines()[1] not in str(entry.changes)

    # Edited without new files: the key and certificates stay. Rules: weekends, over 2 h.
    response = client.post(
        reverse("energy:ven_edit", args=[ven.pk]),
        fields(garage, name="DR 2", opt_out_days=["5", "6"], opt_out_over_minutes="120"),
    )
    assert response.status_code == 302
    ven.refresh_from_db()
    assert ven.name == "DR 2" and ven.has_client_key and ven.client_cert_pem
    assert (ven.opt_out_days, ven.opt_out_over_minutes) == (96, 120)
    page = client.get(reverse("energy:ven_edit", args=[ven.pk]))
    assert page.context["form"].initial["opt_out_days"] == [5, 6]
    assert page.content.decode().count("checked") >= 2


def test_a_key_of_another_certificate_is_refused_on_its_field(personas, client_for, garage, pems):
    folder, other = pems
    client = client_for(personas.owner)
    response = client.post(
        reverse("energy:ven_create") + f"?site={garage.site.pk}",
        fields(
            garage,
            client_cert_file=upload(folder / "ven.pem"),
            client_key_file=upload(other / "ven.key"),
            vtn_ca_file=upload(folder / "ca.pem"),
        ),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["client_key_file"] == [
        "This private key does not belong to the certificate."
    ]
    assert not Ven.objects.filter(ven_name="garage-portal").exists()
    # Not a certificate at all.
    response = client.post(
        reverse("energy:ven_create") + f"?site={garage.site.pk}",
        fields(
            garage,
            client_cert_file=SimpleUploadedFile("x.pem", b"hello", "text/plain"),
            client_key_file=upload(folder / "ven.key"),
            vtn_ca_file=upload(folder / "ca.pem"),
        ),
    )
    assert response.context["form"].errors["client_cert_file"] == ["Not a PEM certificate."]


def test_testing_the_connection_registers_with_a_real_vtn(personas, client_for, garage, vtn):
    client = client_for(personas.owner)
    client.post(
        reverse("energy:ven_create") + f"?site={garage.site.pk}",
        fields(garage, vtn_url=vtn.url, ven_name="portal-test"),
    )
    ven = Ven.objects.get(ven_name="portal-test")

    response = client.post(reverse("energy:ven_test", args=[ven.pk]), follow=True)

    ven.refresh_from_db()
    assert ven.registration_id.startswith("reg-") and ven.ven_id == "ven-portal-test"
    assert "Registered with the VTN (VEN ID ven-portal-test)" in response.content.decode()
    assert AuditEntry.objects.filter(action="energy_ven.test", succeeded=True).exists()
    # A VTN that is not there: the page says so.
    client.post(
        reverse("energy:ven_edit", args=[ven.pk]),
        fields(garage, vtn_url="http://127.0.0.1:9/OpenADR2/Simple/2.0b", ven_name="portal-test"),
    )
    response = client.post(reverse("energy:ven_test", args=[ven.pk]), follow=True)
    assert "The VTN test failed" in response.content.decode()


def test_deleting_a_ven_ends_its_limits(personas, client_for, garage):
    from django.utils import timezone

    from apps.energy import services
    from tests.energy.conftest import in_force
    from tests.energy.test_portal import _event_at

    ven = services.ven_create(
        site=garage.site,
        node=garage.supply,
        name="Gone",
        vtn_url="https://vtn.test/",
        ven_name="gone",
        level_2_percent=Decimal("40"),
    )
    event = _event_at(ven, "peak-x", timezone.now())
    assert in_force(event.reference)

    response = client_for(personas.owner).post(reverse("energy:ven_delete", args=[ven.pk]))

    assert response.status_code == 302
    assert not Ven.objects.filter(pk=ven.pk).exists()
    assert not in_force(event.reference)
    assert AuditEntry.objects.filter(action="energy_ven.delete", object_id=str(ven.pk)).exists()


def test_the_form_in_french(personas, client_for, garage):
    client = client_for(personas.owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    html = client.get(reverse("energy:ven_create") + f"?site={garage.site.pk}").content.decode()
    assert "Nouveau VEN OpenADR" in html and "Clé privée du client (PEM)" in html
    list_html = client.get(reverse("energy:event_list")).content.decode()
    assert "Ajouter un VEN" in list_html


def test_nobody_without_energy_manage_on_the_site(personas, client_for, garage, alpha_sites):
    from apps.energy import services
    from tests.core.test_panels import person

    ven = services.ven_create(
        site=garage.site, node=garage.supply, name="Mine", vtn_url="https://v.test/", ven_name="m"
    )
    viewer = client_for(person([garage.site], "energy.view"))
    elsewhere = client_for(person([alpha_sites[0]], "energy.manage", "energy.view"))
    for client in (viewer, elsewhere, client_for(personas.outsider)):
        assert client.get(reverse("energy:ven_edit", args=[ven.pk])).status_code in (403, 404)
        assert client.post(reverse("energy:ven_delete", args=[ven.pk])).status_code in (403, 404)
        assert client.post(reverse("energy:ven_test", args=[ven.pk])).status_code in (403, 404)
        create = reverse("energy:ven_create") + f"?site={garage.site.pk}"
        assert client.post(create, fields(garage)).status_code in (403, 404)
    assert Ven.objects.filter(pk=ven.pk).exists()
    assert Ven.objects.count() == 1


def test_a_group_ven_from_the_portal(personas, client_for, garage, annex):
    client = client_for(personas.owner)
    create = reverse("energy:ven_create") + f"?site={garage.site.pk}"
    page = client.get(create).content.decode()
    assert "DR Annex: Annex supply" in page  # another site's node, offered as a member
    response = client.post(create, fields(garage, member_nodes=[annex.supply.pk]))
    assert response.status_code == 302
    ven = Ven.objects.get(ven_name="garage-portal")
    assert [m.node_id for m in ven.members.all()] == [annex.supply.pk]
    entry = AuditEntry.objects.get(action="energy_ven.create", object_id=str(ven.pk))
    assert entry.changes["member_nodes"] == [None, [annex.supply.pk]]
    # Someone who manages only the garage keeps the annex in the group without seeing it.
    from tests.core.test_panels import person

    garage_admin = client_for(person([garage.site], "energy.manage", "energy.view"))
    edit = reverse("energy:ven_edit", args=[ven.pk])
    assert "DR Annex" not in garage_admin.get(edit).content.decode()
    assert garage_admin.post(edit, fields(garage, name="Renamed")).status_code == 302
    ven.refresh_from_db()
    assert ven.name == "Renamed"
    assert [m.node_id for m in ven.members.all()] == [annex.supply.pk]
