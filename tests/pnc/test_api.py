"""The Plug & Charge API beyond isolation: installed certificates, certificate commands on a
station (bad input is a 400 with field errors and never reaches the station; an offline
station is a 409), and the provider / OCSP settings."""

from __future__ import annotations

from django.utils import timezone

from apps.pnc.models import InstalledCertificate, PncSettings
from apps.stations.services import station_register
from tests.api.conftest import api_client
from tests.pnc.testpki import LocalPki, pem


def test_certificate_commands_and_installed_list(alpha, personas, alpha_sites):
    station = station_register(
        identity="PNC-API-1", password="pw-pnc-api-1-0123456789", site=alpha_sites[0]
    )
    held = InstalledCertificate.objects.create(
        station=station,
        certificate_type="CSMSRootCertificate",
        hash_algorithm="SHA256",
        issuer_name_hash="aa",
        issuer_key_hash="bb",
        serial_number="c0ffee",
        reported_at=timezone.now(),
    )
    client = api_client(alpha, user=personas.owner)
    rows = client.get("/api/v1/pnc/installed-certificates/", {"station": station.pk}).json()
    assert [row["serial_number"] for row in rows["results"]] == ["c0ffee"]

    url = f"/api/v1/pnc/stations/{station.pk}/certificates/"
    bad = client.post(url, {"certificate_type": "Nope", "certificate_pem": ""}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()["error"]["details"]) >= {"certificate_type", "certificate_pem"}
    leaf = client.post(
        url,
        {"certificate_type": "V2GRootCertificate", "certificate_pem": pem(LocalPki().leaf)},
        format="json",
    )
    assert leaf.status_code == 400 and "not a CA" in str(leaf.json()["error"]["details"])
    offline = client.post(
        url,
        {"certificate_type": "V2GRootCertificate", "certificate_pem": pem(LocalPki().root)},
        format="json",
    )
    assert offline.status_code == 409
    refresh = client.post(url + "refresh/", {"certificate_types": ["Nope"]}, format="json")
    assert refresh.status_code == 400 and "certificate_types" in refresh.json()["error"]["details"]
    assert client.post(url + "refresh/", {}, format="json").status_code == 409
    gone = client.delete(f"/api/v1/pnc/installed-certificates/{held.pk}/")
    assert gone.status_code == 409
    assert InstalledCertificate.objects.filter(pk=held.pk).exists()


def test_settings(alpha, personas):
    client = api_client(alpha, user=personas.owner)
    created = client.post(
        "/api/v1/pnc/settings/",
        {"ocsp_responder_url": "http://ocsp.example/", "accept_unknown_ocsp": True},
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    bad = client.patch(
        f"/api/v1/pnc/settings/{pk}/",
        {"pool_ca_pem": "garbage", "ocsp_timeout_seconds": 99},
        format="json",
    )
    assert bad.status_code == 400 and "ocsp_timeout_seconds" in bad.json()["error"]["details"]
    bad = client.patch(
        f"/api/v1/pnc/settings/{pk}/", {"ocsp_responder_url": "ftp://x/"}, format="json"
    )
    assert bad.status_code == 400 and "ocsp_responder_url" in bad.json()["error"]["details"]
    bad = client.patch(f"/api/v1/pnc/settings/{pk}/", {"pool_ca_pem": "garbage"}, format="json")
    assert bad.status_code == 400 and "pool_ca_pem" in bad.json()["error"]["details"]
    done = client.patch(
        f"/api/v1/pnc/settings/{pk}/", {"pool_url": "https://pool.example/"}, format="json"
    )
    assert done.status_code == 200
    config = PncSettings.objects.get()
    assert config.pool_url == "https://pool.example/" and config.accept_unknown_ocsp
    assert PncSettings.objects.count() == 1
