"""OCSP asked of a real responder (its own process, ``ocsp_responder.py``) by a real server
for 2.0.1 stations: Authorize with a contract chain (the responder named in the certificates)
and with iso15118CertificateHashData (the station's responderURL), a revoked contract refused,
answers cached until their nextUpdate, GetCertificateStatus forwarded, a forged answer
refused, the tenant's configured responder preferred, and the documented fallback when the
responder is down (NoCertificateAvailable, Accepted when the tenant accepts unknown statuses,
a known revocation still refused)."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests
from cryptography.x509 import ocsp
from ocpp.v201 import call as call201

from apps.charging.services import token_create
from apps.pnc import pki as pnc_pki
from apps.pnc import services
from apps.pnc.models import OcspResponse, PncSettings
from tests.live import free_port
from tests.ocpp.clients import Connected
from tests.pnc.test_live import in_tenant, make_station
from tests.pnc.testpki import LocalPki, key_pem, pem

pytestmark = pytest.mark.slow
RESPONDER = Path(__file__).with_name("ocsp_responder.py")


class Responder:
    def __init__(self, tmp_path: Path, pki: LocalPki, *, port: int, **options) -> None:
        self.port = port
        config = {
            "port": port,
            "issuers": [
                {"certificate": pem(pki.root), "key": key_pem(pki.root_key)},
                {"certificate": pem(pki.sub), "key": key_pem(pki.sub_key)},
            ],
            **options,
        }
        path = tmp_path / f"ocsp-{port}.json"
        path.write_text(json.dumps(config))
        self.process = subprocess.Popen(
            [sys.executable, str(RESPONDER), str(path)], stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout.readline().strip() == "ready"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def count(self) -> int:
        return requests.get(self.url + "count", timeout=5).json()["count"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def responders(tmp_path):
    started: list[Responder] = []

    def start(pki, **options) -> Responder:
        responder = Responder(
            tmp_path, pki, port=options.pop("port", None) or free_port(), **options
        )
        started.append(responder)
        return responder

    yield start
    for responder in started:
        responder.stop()


def configure(tenant, **changes):
    def run():
        config = services.pnc_settings()
        PncSettings.objects.filter(pk=config.pk).update(**changes)

    in_tenant(tenant, run)


@pytest.fixture
def settings_reset(live_alpha):
    yield
    configure(live_alpha, ocsp_responder_url="", accept_unknown_ocsp=False)


def serial(certificate) -> str:
    return format(certificate.serial_number, "x")


def test_ocsp_from_the_responder(pnc_server, live_alpha, responders, settings_reset):
    station, identity, password = make_station(live_alpha)
    port = free_port()
    pki = LocalPki(
        emaid=f"FRCGR{uuid.uuid4().hex[:9].upper()}", ocsp_url=f"http://127.0.0.1:{port}/"
    )
    leaves = {name: pki.contract(pki.emaid) for name in ("revoked", "hash", "status", "down")}
    first = responders(pki, port=port, revoked=[serial(leaves["revoked"])])

    def setup():
        token_create(uid=pki.emaid, token_type="eMAID")
        services.trusted_root_add(name="OCSP test root", certificate_pem=pem(pki.root))

    in_tenant(live_alpha, setup)
    token = {"id_token": pki.emaid, "type": "eMAID"}

    async def authorize(cp, **kw):
        answer = await cp.call(call201.Authorize(id_token=token, **kw))
        return answer.id_token_info["status"], answer.certificate_status

    def hash_data(leaf, url):
        return {**pki.hash_data(leaf, pki.sub), "responderURL": url}

    async def scenario():
        out = {}
        async with Connected(pnc_server.ws, identity, password, "2.0.1") as cp:
            out["good"] = await authorize(cp, certificate=pki.chain())
            out["asked_good"] = await asyncio.to_thread(first.count)
            out["cached"] = await authorize(cp, certificate=pki.chain())
            out["asked_cached"] = await asyncio.to_thread(first.count)
            out["revoked"] = await authorize(cp, certificate=pki.chain(leaves["revoked"]))
            out["hash"] = await authorize(
                cp, iso15118_certificate_hash_data=[hash_data(leaves["hash"], first.url)]
            )
            status = await cp.call(
                call201.GetCertificateStatus(
                    ocsp_request_data=hash_data(leaves["status"], first.url)
                )
            )
            out["status"] = (status.status, status.ocsp_result)

            await asyncio.to_thread(first.stop)  # the responder is down from here
            out["down"] = await authorize(cp, certificate=pki.chain(leaves["down"]))
            status = await cp.call(
                call201.GetCertificateStatus(
                    ocsp_request_data=hash_data(pki.contract(pki.emaid), first.url)
                )
            )
            out["status_down"] = status.status
            # A revocation known from before stays refused, however old the answer.
            await asyncio.to_thread(
                in_tenant,
                live_alpha,
                lambda: OcspResponse.objects.filter(serial_number=serial(leaves["revoked"])).update(
                    next_update=dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
                ),
            )
            out["revoked_stale"] = await authorize(cp, certificate=pki.chain(leaves["revoked"]))
            await asyncio.to_thread(configure, live_alpha, accept_unknown_ocsp=True)
            out["down_accepted"] = await authorize(cp, certificate=pki.chain(leaves["down"]))
            out["revoked_accepting"] = await authorize(cp, certificate=pki.chain(leaves["revoked"]))
        return out

    out = asyncio.run(scenario())
    assert out["good"] == ("Accepted", "Accepted")
    assert out["asked_good"] == 2  # the leaf (by the sub-CA) and the sub-CA (by the root)
    assert out["cached"] == ("Accepted", "Accepted")
    assert out["asked_cached"] == 2  # both answers held until their nextUpdate
    assert out["revoked"] == ("Invalid", "CertificateRevoked")
    assert out["hash"] == ("Accepted", "Accepted")
    status, result = out["status"]
    assert status == "Accepted"
    answer = ocsp.load_der_ocsp_response(base64.b64decode(result))
    assert answer.serial_number == leaves["status"].serial_number
    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert out["down"] == ("Invalid", "NoCertificateAvailable")
    assert out["status_down"] == "Failed"
    assert out["revoked_stale"] == ("Invalid", "CertificateRevoked")
    assert out["down_accepted"] == ("Accepted", "Accepted")
    assert out["revoked_accepting"] == ("Invalid", "CertificateRevoked")


def test_forged_answer_refused_next_update_and_configured_responder(
    pnc_server, live_alpha, responders, settings_reset
):
    station, identity, password = make_station(live_alpha)
    named = free_port()  # the responder the certificates name: never started
    pki = LocalPki(
        emaid=f"FRCGR{uuid.uuid4().hex[:9].upper()}", ocsp_url=f"http://127.0.0.1:{named}/"
    )
    forged = responders(pki, forge=True)
    short = responders(pki, next_update_seconds=2)

    def setup():
        token_create(uid=pki.emaid, token_type="eMAID")
        services.trusted_root_add(name="OCSP test root 2", certificate_pem=pem(pki.root))

    in_tenant(live_alpha, setup)
    token = {"id_token": pki.emaid, "type": "eMAID"}

    async def authorize(cp):
        answer = await cp.call(call201.Authorize(id_token=token, certificate=pki.chain()))
        return answer.id_token_info["status"], answer.certificate_status

    async def scenario():
        out = {}
        async with Connected(pnc_server.ws, identity, password, "2.0.1") as cp:
            out["named_down"] = await authorize(cp)
            await asyncio.to_thread(configure, live_alpha, ocsp_responder_url=forged.url)
            out["forged"] = await authorize(cp)
            out["forged_asked"] = await asyncio.to_thread(forged.count)
            out["forged_cached"] = await asyncio.to_thread(
                in_tenant,
                live_alpha,
                lambda: OcspResponse.objects.filter(serial_number=serial(pki.leaf)).exists(),
            )
            await asyncio.to_thread(configure, live_alpha, ocsp_responder_url=short.url)
            out["configured"] = await authorize(cp)
            out["asked"] = [await asyncio.to_thread(short.count)]
            await authorize(cp)
            out["asked"].append(await asyncio.to_thread(short.count))
            await asyncio.sleep(2.5)  # past nextUpdate: asked again
            out["again"] = await authorize(cp)
            out["asked"].append(await asyncio.to_thread(short.count))
        return out

    out = asyncio.run(scenario())
    assert out["named_down"] == ("Invalid", "NoCertificateAvailable")
    assert out["forged"] == ("Invalid", "NoCertificateAvailable")
    assert out["forged_asked"] >= 1 and not out["forged_cached"]
    assert out["configured"] == ("Accepted", "Accepted")
    assert out["again"] == ("Accepted", "Accepted")
    assert out["asked"] == [2, 2, 4]


def test_ocsp_answer_checks():
    """The answer must be about the certificate asked for, current, and signed by its issuer."""
    pki = LocalPki()
    now = dt.datetime.now(dt.UTC)
    entry = pnc_pki.cert_id(pki.leaf, pki.sub)
    good = pki.ocsp(pki.leaf, pki.sub, pki.sub_key)
    assert pnc_pki.ocsp_response_check(good, entry, issuer=pki.sub, roots=[], now=now)
    other = pki.ocsp(pki.contract(pki.emaid), pki.sub, pki.sub_key)
    with pytest.raises(ValueError, match="another certificate"):
        pnc_pki.ocsp_response_check(other, entry, issuer=pki.sub, roots=[], now=now)
    with pytest.raises(ValueError, match="out of date"):
        pnc_pki.ocsp_response_check(
            good, entry, issuer=pki.sub, roots=[], now=now + dt.timedelta(days=2)
        )
    stranger = LocalPki()
    forged = pki.ocsp(pki.leaf, pki.sub, pki.sub_key, signer=(stranger.sub, stranger.sub_key))
    with pytest.raises(ValueError, match="not signed"):
        pnc_pki.ocsp_response_check(forged, entry, issuer=pki.sub, roots=[], now=now)
    # Hash data alone: the issuer must be a trusted root (or in the answer, signed by one).
    root_entry = pnc_pki.cert_id(pki.sub, pki.root)
    by_root = pki.ocsp(pki.sub, pki.root, pki.root_key)
    assert pnc_pki.ocsp_response_check(by_root, root_entry, issuer=None, roots=[pki.root], now=now)
    with pytest.raises(ValueError, match="not signed"):
        pnc_pki.ocsp_response_check(by_root, root_entry, issuer=None, roots=[], now=now)
