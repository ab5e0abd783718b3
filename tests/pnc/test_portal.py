"""The Plug & Charge page: the CA, station certificates with expiry, trusted roots uploaded
and removed (EN and FR); bad uploads explained; tenant-wide parts need every site."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from apps.pnc import services
from apps.pnc.models import StationCertificate, TrustedRoot
from apps.stations.services import station_register
from tests.pnc.testpki import LocalPki, pem


def test_owner_sees_certificates_and_uploads_a_root(personas, client_for, alpha_sites):
    station = station_register(identity="PNC-PORTAL-1", password="pw-pnc-portal-1-0123456789")
    services.ca_get_or_create()
    StationCertificate.objects.create(
        station=station,
        certificate_type="ChargingStationCertificate",
        serial_number="abc123",
        subject="CN=PNC-PORTAL-1",
        certificate_pem="-",
        not_before=timezone.now(),
        not_after=timezone.now() + dt.timedelta(days=20),
        status="accepted",
    )
    owner = client_for(personas.owner)
    page = owner.get(reverse("pnc:overview")).content.decode()
    assert "PNC-PORTAL-1" in page and "Certificate authority" in page

    bad = owner.post(reverse("pnc:root_create"), {"name": "x", "certificate_pem": "nonsense"})
    assert bad.status_code == 200 and "not a PEM certificate" in bad.content.decode()
    leaf = LocalPki().leaf  # not a CA
    refused = owner.post(reverse("pnc:root_create"), {"certificate_pem": pem(leaf)})
    assert "not a CA" in refused.content.decode()
    assert not TrustedRoot.objects.exists()

    root = LocalPki().root
    done = owner.post(reverse("pnc:root_create"), {"name": "Hubject", "certificate_pem": pem(root)})
    assert done.status_code == 302
    trusted = TrustedRoot.objects.get()
    assert trusted.name == "Hubject" and trusted.subject == "CN=Test V2G Root"
    again = owner.post(reverse("pnc:root_create"), {"certificate_pem": pem(root)})
    assert "already trusted" in again.content.decode()

    owner.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    page = owner.get(reverse("pnc:overview")).content.decode()
    assert "Racines eMobility de confiance" in page and "Certificats des bornes" in page
    assert "Hubject" in page
    owner.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    owner.post(reverse("pnc:root_delete", args=[trusted.pk]))
    assert not TrustedRoot.objects.exists()


def test_delegate_sees_no_tenant_wide_part_and_outsider_nothing(personas, client_for):
    services.trusted_root_add(name="Root", certificate_pem=pem(LocalPki().root))
    assert client_for(personas.outsider).get(reverse("pnc:overview")).status_code == 403
    delegate = client_for(personas.delegate)
    response = delegate.get(reverse("pnc:overview"))
    if response.status_code == 200:
        assert "Trusted eMobility roots" not in response.content.decode()
        root = TrustedRoot.objects.get()
        delegate.post(reverse("pnc:root_delete", args=[root.pk]))
        assert TrustedRoot.objects.filter(pk=root.pk).exists()
    else:
        assert response.status_code == 403
