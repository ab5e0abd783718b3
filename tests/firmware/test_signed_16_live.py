"""OCPP 1.6 security whitepaper signed firmware update, over real websockets: a signed image
goes to 1.6 stations in SignedUpdateFirmware, they check the signature and report in
SignedFirmwareStatusNotification (with the request id); a station without the whitepaper
gets the plain UpdateFirmware instead; a bad signature is reported as such."""

from __future__ import annotations

import hashlib
import time
import uuid
import warnings

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from apps.firmware import services
from apps.firmware.choices import TargetStatus
from apps.firmware.models import Campaign, CampaignTarget, FirmwareImage
from apps.simulator.station import SimulatedStation, StationConfig
from tests.live import LoopThread, ServerProcess

from .fleet import image_bytes, sign, signer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def media_root(tmp_path_factory):
    return tmp_path_factory.mktemp("firmware-signed-16")


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, media_root):
    with django_db_blocker.unblock():
        process = ServerProcess("firmware-signed-16").start(CHARGEGRID_MEDIA_ROOT=str(media_root))
        yield process
        process.stop()


def test_signed_updates_on_1_6(server, django_db_blocker, settings, media_root):
    from apps.stations.models import Site, Station
    from apps.stations.services import site_create, station_register
    from apps.tenants.models import StationIdentity, Tenant

    settings.MEDIA_ROOT = str(media_root)
    settings.FIRMWARE_DOWNLOAD_BASE_URL = f"http://localhost:{server.port}"
    tag = uuid.uuid4().hex[:6].upper()
    version = f"3.1.{int(tag, 16) % 100_000}"
    password = f"pw-fw16-{tag.lower()}-0123456789"
    specs = {  # identity suffix: (implements the whitepaper, failure to inject)
        "signed": (True, ""),
        "legacy": (False, ""),
        "forged": (True, "InvalidSignature"),
    }
    loop = LoopThread()
    with django_db_blocker.unblock():
        tenant = Tenant.objects.get(slug="alpha")
        with tenant_context(tenant):
            site = site_create(name=f"FW16 {tag}", timezone="UTC")
            stations = {
                name: station_register(identity=f"F16-{tag}-{name}", password=password, site=site)
                for name in specs
            }
        simulated = {
            name: SimulatedStation(
                StationConfig(
                    identity=stations[name].identity,
                    url=f"{server.ws}/ocpp/",
                    password=password,
                    version="1.6",
                    transfer_seconds=0.05,
                    reboot_delay=0.1,
                    download_firmware=True,
                    signed_firmware_16=whitepaper,
                    firmware_failure=failure,
                    settings={"SupportedFileTransferProtocols": "HTTP,HTTPS"},
                )
            )
            for name, (whitepaper, failure) in specs.items()
        }
        try:
            for sim in simulated.values():
                assert loop.run(sim.connect()) == "Accepted"
            data = image_bytes(4096)
            key, certificate = signer()
            with tenant_context(tenant):
                image = services.firmware_image_upload(
                    upload=SimpleUploadedFile("fw.bin", data),
                    vendor="ChargeGrid",
                    model="SimCharger AC",
                    version=version,
                    sha256=hashlib.sha256(data).hexdigest(),
                    signature=sign(key, data),
                    signing_certificate=certificate,
                )
                campaign = services.campaign_create(
                    name=f"Signed 1.6 {tag}",
                    image=image,
                    stations=Station.objects.filter(site=site),
                    canary_count=0,
                    wave_percents=[],
                    concurrency=3,
                    failure_threshold_percent=100,
                    max_attempts=1,
                )
                services.campaign_start(campaign=campaign)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                with tenant_context(tenant):
                    result = services.campaign_tick(campaign_id=campaign.pk)
                if result.status == "completed":
                    break
                time.sleep(0.3)
            with tenant_context(tenant):
                targets = {
                    t.station.identity.rsplit("-", 1)[1]: t
                    for t in CampaignTarget.objects.filter(campaign=campaign).select_related(
                        "station"
                    )
                }
                assert result.status == "completed", {n: t.status for n, t in targets.items()}
                assert targets["signed"].status == TargetStatus.UPGRADED
                assert targets["legacy"].status == TargetStatus.UPGRADED
                assert targets["forged"].status == TargetStatus.FAILED
                assert targets["forged"].reason == "The signature is invalid"
                assert targets["forged"].station_status == "InvalidSignature"
            signed = simulated["signed"].calls_received("SignedUpdateFirmware")
            assert len(signed) == 1 and simulated["signed"].calls_received("UpdateFirmware") == []
            sent = [
                c.payload
                for c in simulated["signed"].calls_sent("SignedFirmwareStatusNotification")
            ]
            statuses = [p["status"] for p in sent]
            assert "SignatureVerified" in statuses and statuses[-1] == "Installed"
            assert {p["requestId"] for p in sent} == {targets["signed"].pk}
            # the station without the whitepaper: refused with NotImplemented, then plain
            assert len(simulated["legacy"].calls_received("SignedUpdateFirmware")) == 1
            assert len(simulated["legacy"].calls_received("UpdateFirmware")) == 1
            assert simulated["signed"].firmware_version == version
        finally:
            for sim in simulated.values():
                loop.run(sim.close())
            loop.stop()
            with tenant_context(tenant):
                try:
                    Campaign.objects.filter(name__endswith=tag).delete()
                    FirmwareImage.objects.filter(version=version).delete()
                    Station.objects.filter(site=site).delete()
                    Site.objects.filter(pk=site.pk).delete()
                except Exception as error:
                    warnings.warn(f"signed 1.6 site {tag} left behind: {error}", stacklevel=1)
            StationIdentity.objects.filter(identity__startswith=f"F16-{tag}-").delete()
