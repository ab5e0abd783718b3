"""Plug & Charge against a real server and 2.0.1 stations over websockets: a station's
certificate signed by the tenant CA and delivered (A02/A03) and its renewal asked for;
contracts authorised by certificate chain and OCSP, revoked ones refused (C07); cached OCSP
answers (M06); EV contract certificates passed to a pool over HTTP, Failed when it is not
there (M01/M02)."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import http.server
import json
import threading
import time
import uuid

import pytest
from cryptography import x509
from django_tenants.utils import tenant_context
from ocpp.routing import on
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201

from apps.charging.services import token_create
from apps.pnc import services
from apps.pnc.models import CertificateAuthority, PncSettings, SignStatus, StationCertificate
from apps.simulator.station import SimulatedStation, StationConfig
from apps.stations.services import station_register
from tests.live import LoopThread, blocking, free_port, unique_identity
from tests.ocpp import clients
from tests.ocpp.clients import Connected
from tests.pnc.testpki import LocalPki, pem, station_csr

pytestmark = pytest.mark.slow


class PncClient(clients.Client201):
    @on("CertificateSigned")
    def certificate_signed(self, certificate_chain, **kw):
        self.record("CertificateSigned", {"certificate_chain": certificate_chain, **kw})
        return result201.CertificateSigned(status="Accepted")


@pytest.fixture
def pnc_client(monkeypatch):
    monkeypatch.setattr(clients, "Client201", PncClient)


def in_tenant(tenant, fn):
    def run():
        with tenant_context(tenant):
            return fn()

    return blocking(run)


def make_station(tenant):
    identity = unique_identity("PNC")
    password = f"pw-{identity.lower()}-0123456789"
    station = in_tenant(
        tenant, lambda: station_register(identity=identity, password=password, evse_count=1)
    )
    return station, identity, password


async def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await asyncio.to_thread(predicate)
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


def test_station_certificate_signed_delivered_and_renewed(pnc_server, live_alpha, pnc_client):
    station, identity, password = make_station(live_alpha)

    async def scenario():
        async with Connected(pnc_server.ws, identity, password, "2.0.1") as cp:
            refused, _ = station_csr("SOMEONE-ELSE")
            answer = await cp.call(
                call201.SignCertificate(csr=refused, certificate_type="ChargingStationCertificate")
            )
            assert answer.status == "Rejected"
            csr, key = station_csr(identity)
            answer = await cp.call(
                call201.SignCertificate(csr=csr, certificate_type="ChargingStationCertificate")
            )
            assert answer.status == "Accepted"
            signed = await wait_for(lambda: [p for a, p in cp.received if a == "CertificateSigned"])
            record = await wait_for(
                lambda: in_tenant(
                    live_alpha,
                    lambda: StationCertificate.objects.filter(
                        station=station, status=SignStatus.ACCEPTED
                    ).first(),
                )
            )
            # Renewal: the certificate nears expiry; the beat task's service asks once.
            soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=5)
            in_tenant(
                live_alpha,
                lambda: StationCertificate.objects.filter(pk=record.pk).update(not_after=soon),
            )
            asked = await asyncio.to_thread(in_tenant, live_alpha, services.renew_due)
            again = await asyncio.to_thread(in_tenant, live_alpha, services.renew_due)
            return signed[0], key, record, asked, again, list(cp.received)

    payload, key, record, asked, again, received = asyncio.run(scenario())
    assert payload["certificate_type"] == "ChargingStationCertificate"
    leaf = x509.load_pem_x509_certificate(payload["certificate_chain"].encode())
    ca_pem = in_tenant(live_alpha, lambda: CertificateAuthority.objects.get().certificate_pem)
    ca = x509.load_pem_x509_certificate(ca_pem.encode())
    leaf.verify_directly_issued_by(ca)
    assert leaf.public_key() == key.public_key()
    assert leaf.subject.rfc4514_string() == f"CN={identity}"
    assert record.serial_number == format(leaf.serial_number, "x")
    assert asked >= 1 and again == 0
    assert ("TriggerMessage", {"requested_message": "SignChargingStationCertificate"}) in received
    key_text = in_tenant(live_alpha, lambda: CertificateAuthority.objects.get().key_pem_encrypted)
    assert "ENCRYPTED PRIVATE KEY" in key_text


def test_contract_authorize_chain_ocsp_and_revocation(pnc_server, live_alpha):
    station, identity, password = make_station(live_alpha)
    pki = LocalPki(emaid=f"FRCGR{uuid.uuid4().hex[:9].upper()}")
    forged = LocalPki(emaid=pki.emaid)  # look-alike: same names, other keys

    def setup():
        token_create(uid=pki.emaid, token_type="eMAID")
        services.trusted_root_add(name="Test root", certificate_pem=pem(pki.root))

    in_tenant(live_alpha, setup)
    token = {"id_token": pki.emaid, "type": "eMAID"}

    def store(*responses):
        for der in responses:
            in_tenant(live_alpha, lambda der=der: services.ocsp_response_store(der=der))

    async def authorize(cp, **kw):
        answer = await cp.call(call201.Authorize(id_token=token, **kw))
        return answer.id_token_info["status"], answer.certificate_status

    leaf_hash = pki.hash_data(pki.leaf, pki.sub)
    good_leaf = pki.ocsp(pki.leaf, pki.sub, pki.sub_key)

    async def scenario():
        results = {}
        async with Connected(pnc_server.ws, identity, password, "2.0.1") as cp:
            results["untrusted"] = await authorize(cp, certificate=forged.chain())
            results["no_ocsp"] = await authorize(cp, certificate=pki.chain())
            status = await cp.call(call201.GetCertificateStatus(ocsp_request_data=leaf_hash))
            results["status_uncached"] = status.status
            await asyncio.to_thread(store, good_leaf, pki.ocsp(pki.sub, pki.root, pki.root_key))
            results["good"] = await authorize(cp, certificate=pki.chain())
            results["good_hash"] = await authorize(cp, iso15118_certificate_hash_data=[leaf_hash])
            status = await cp.call(call201.GetCertificateStatus(ocsp_request_data=leaf_hash))
            results["status_cached"] = (status.status, status.ocsp_result)
            await asyncio.to_thread(store, pki.ocsp(pki.leaf, pki.sub, pki.sub_key, "REVOKED"))
            results["revoked"] = await authorize(cp, certificate=pki.chain())
            results["revoked_hash"] = await authorize(
                cp, iso15118_certificate_hash_data=[leaf_hash]
            )
        return results

    results = asyncio.run(scenario())
    assert results["untrusted"] == ("Invalid", "SignatureError")
    assert results["no_ocsp"] == ("Invalid", "NoCertificateAvailable")
    assert results["status_uncached"] == "Failed"
    assert results["good"] == ("Accepted", "Accepted")
    assert results["good_hash"] == ("Accepted", "Accepted")
    status, ocsp_result = results["status_cached"]
    assert status == "Accepted"
    assert base64.b64decode(ocsp_result) == good_leaf
    assert results["revoked"] == ("Invalid", "CertificateRevoked")
    assert results["revoked_hash"] == ("Invalid", "CertificateRevoked")


class Pool(http.server.BaseHTTPRequestHandler):
    delay = 0.0
    seen: list = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Pool.seen.append(body)
        time.sleep(Pool.delay)
        answer = json.dumps(
            {"status": "Accepted", "exiResponse": "RESP-" + body["exiRequest"]}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def test_ev_certificate_passed_to_pool_and_failed_when_unreachable(pnc_server, live_alpha):
    station, identity, password = make_station(live_alpha)
    peer = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Pool)
    threading.Thread(target=peer.serve_forever, daemon=True).start()
    Pool.seen, Pool.delay = [], 0.0

    def configure(url, timeout=2.0):
        def run():
            config = services.pnc_settings()
            PncSettings.objects.filter(pk=config.pk).update(
                pool_url=url, pool_timeout_seconds=timeout
            )

        in_tenant(live_alpha, run)

    def ask(cp):
        return cp.call(
            call201.Get15118EVCertificate(
                iso15118_schema_version="urn:iso:15118:2:2013:MsgDef",
                action="Install",
                exi_request="QUJD",
            )
        )

    async def scenario():
        out = {}
        async with Connected(pnc_server.ws, identity, password, "2.0.1") as cp:
            configure(f"http://127.0.0.1:{peer.server_port}/contracts")
            out["ok"] = await ask(cp)
            Pool.delay = 1.5
            configure(f"http://127.0.0.1:{peer.server_port}/contracts", timeout=0.5)
            out["slow"] = await ask(cp)
            Pool.delay = 0.0
            configure(f"http://127.0.0.1:{free_port()}/contracts")
            out["down"] = await ask(cp)
        return out

    try:
        out = asyncio.run(scenario())
    finally:
        configure("")
        peer.shutdown()
    assert (out["ok"].status, out["ok"].exi_response) == ("Accepted", "RESP-QUJD")
    assert Pool.seen[0]["action"] == "Install"
    assert Pool.seen[0]["iso15118SchemaVersion"] == "urn:iso:15118:2:2013:MsgDef"
    assert (out["slow"].status, out["slow"].exi_response) == ("Failed", "")
    assert (out["down"].status, out["down"].exi_response) == ("Failed", "")


@pytest.fixture
def loop():
    thread = LoopThread()
    yield thread
    thread.stop()


def test_simulated_station_gets_and_renews_its_certificate(pnc_server, live_alpha, loop):
    """The simulator's 2.0.1 station: its own CSR signed and installed; near expiry the beat
    task's service triggers it and the station installs a new certificate."""
    station_row, identity, password = make_station(live_alpha)
    station = SimulatedStation(
        StationConfig(
            identity=identity, url=f"{pnc_server.ws}/ocpp/", password=password, version="2.0.1"
        )
    )

    def installed(count):
        def check():
            rows = in_tenant(
                live_alpha,
                lambda: list(
                    StationCertificate.objects.filter(
                        station=station_row, status=SignStatus.ACCEPTED
                    ).order_by("created_at")
                ),
            )
            return rows if len(rows) >= count else None

        return check

    def until(predicate, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError("timed out")

    try:
        assert loop.run(station.connect()) == "Accepted"
        assert loop.run(station.sign_certificate("ChargingStationCertificate")) == "Accepted"
        first = until(installed(1))[0]
        chain = station.certificates["ChargingStationCertificate"]
        assert x509.load_pem_x509_certificate(chain.encode()).serial_number == int(
            first.serial_number, 16
        )
        soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
        in_tenant(
            live_alpha,
            lambda: StationCertificate.objects.filter(pk=first.pk).update(not_after=soon),
        )
        assert in_tenant(live_alpha, services.renew_due) == 1
        rows = until(installed(2))
        renewed = station.certificates["ChargingStationCertificate"]
        assert renewed != chain
        assert x509.load_pem_x509_certificate(renewed.encode()).serial_number == int(
            rows[-1].serial_number, 16
        )
        assert rows[-1].not_after > soon + dt.timedelta(days=300)
        assert in_tenant(live_alpha, services.renew_due) == 0  # the new one is far from expiry
    finally:
        loop.run(station.close())
