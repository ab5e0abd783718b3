"""The Plug & Charge page: the CA, station certificates with expiry, trusted roots uploaded
and removed (EN and FR); bad uploads explained; tenant-wide parts need every site."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from apps.pnc import services
from apps.pnc.models import InstalledCertificate, PncSettings, StationCertificate, TrustedRoot
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


def test_station_certificates_page_install_refresh_delete(personas, client_for, alpha_sites):
    """The station's page lists what it reported; bad input is explained before anything is
    sent; a station that never connected gets the command service's answer."""
    station = station_register(
        identity="PNC-PORTAL-2", password="pw-pnc-portal-2-0123456789", site=alpha_sites[0]
    )
    held = InstalledCertificate.objects.create(
        station=station,
        certificate_type="CSMSRootCertificate",
        hash_algorithm="SHA256",
        issuer_name_hash="aa",
        issuer_key_hash="bb",
        serial_number="c0ffee",
        subject="CN=Our CSMS root",
        reported_at=timezone.now(),
    )
    owner = client_for(personas.owner)
    found = owner.get(reverse("pnc:station_find"), {"identity": "pnc-portal-2"})
    assert found.status_code == 302 and found.url == reverse(
        "pnc:station_certificates", args=[station.pk]
    )
    page = owner.get(found.url).content.decode()
    assert "c0ffee" in page and "CN=Our CSMS root" in page
    assert "V2G root (ISO 15118)" in page  # a 2.0.1 type offered (never connected: 2.0.1)

    url = reverse("pnc:station_install", args=[station.pk])
    bad = owner.post(url, {"certificate_type": "V2GRootCertificate", "certificate_pem": "x"})
    assert bad.status_code == 200 and "not a PEM certificate" in bad.content.decode()
    unknown = owner.post(url, {"certificate_type": "Nope", "certificate_pem": "x"})
    assert unknown.status_code == 200 and "Nope" in unknown.content.decode()
    sent = owner.post(
        url,
        {"certificate_type": "V2GRootCertificate", "certificate_pem": pem(LocalPki().root)},
        follow=True,
    )
    assert "never connected" in sent.content.decode()
    refreshed = owner.post(reverse("pnc:station_refresh", args=[station.pk]), follow=True)
    assert "never connected" in refreshed.content.decode()
    owner.post(reverse("pnc:installed_delete", args=[held.pk]))
    assert InstalledCertificate.objects.filter(pk=held.pk).exists()  # the station never said

    owner.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    page = owner.get(found.url).content.decode()
    assert "Installés sur la borne" in page and "Installer un certificat racine" in page
    owner.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    other = station_register(
        identity="PNC-PORTAL-3", password="pw-pnc-portal-3-0123456789", site=alpha_sites[1]
    )
    delegate = client_for(personas.delegate)
    for response in (
        delegate.get(reverse("pnc:station_certificates", args=[other.pk])),
        delegate.post(reverse("pnc:station_refresh", args=[other.pk])),
    ):
        assert response.status_code in (403, 404)
    outsider = client_for(personas.outsider)
    assert outsider.get(reverse("pnc:station_certificates", args=[station.pk])).status_code == 403
    assert outsider.post(reverse("pnc:installed_delete", args=[held.pk])).status_code == 403


def test_provider_and_ocsp_settings(personas, client_for):
    owner = client_for(personas.owner)
    url = reverse("pnc:settings_edit")
    assert "OCSP responder URL" in owner.get(url).content.decode()
    bad = owner.post(
        url,
        {
            "pool_url": "not a url",
            "pool_timeout_seconds": "99",
            "pool_ca_pem": "garbage",
            "ocsp_timeout_seconds": "3",
        },
    )
    text = bad.content.decode()
    assert bad.status_code == 200 and "Between 0.1 and 30 seconds." in text
    assert "Enter a valid URL." in text
    garbage = owner.post(
        url,
        {"pool_timeout_seconds": "5", "pool_ca_pem": "garbage", "ocsp_timeout_seconds": "3"},
    )
    assert "not PEM certificates" in garbage.content.decode()
    done = owner.post(
        url,
        {
            "pool_url": "https://pool.example/contracts",
            "pool_timeout_seconds": "4",
            "pool_ca_pem": pem(LocalPki().root),
            "ocsp_responder_url": "http://ocsp.example/",
            "ocsp_timeout_seconds": "2",
            "accept_unknown_ocsp": "on",
        },
    )
    assert done.status_code == 302
    config = PncSettings.objects.get()
    assert config.pool_url == "https://pool.example/contracts" and config.accept_unknown_ocsp
    assert config.ocsp_responder_url == "http://ocsp.example/" and config.ocsp_timeout_seconds == 2
    assert "BEGIN CERTIFICATE" in config.pool_ca_pem
    overview = owner.get(reverse("pnc:overview")).content.decode()
    assert "http://ocsp.example/" in overview and "unknown status accepted" in overview

    owner.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    page = owner.get(url).content.decode()
    assert "Certificats de contrat et OCSP" in page and "URL du répondeur OCSP" in page
    owner.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    assert client_for(personas.delegate).get(url).status_code == 403
    assert client_for(personas.delegate).post(url, {}).status_code == 403
    assert client_for(personas.outsider).get(url).status_code == 403
