"""A small OCSP responder for the tests, run in its own process:

    python tests/pnc/ocsp_responder.py CONFIG.json

CONFIG names ``port``, ``issuers`` (a list of {certificate, key} PEM: the CAs it answers for,
each signing its own answers and including its certificate), ``revoked`` (serials, hex),
``next_update_seconds`` and ``forge`` (sign with a stranger's key).  It answers POSTed DER
requests (``application/ocsp-request``) with GOOD / REVOKED, UNKNOWN for an issuer it does
not know, and counts them: ``GET /count``."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp


def main(path: str) -> None:
    with open(path) as handle:
        config = json.load(handle)
    issuers = []
    for item in config["issuers"]:
        certificate = x509.load_pem_x509_certificate(item["certificate"].encode())
        key = serialization.load_pem_private_key(item["key"].encode(), None)
        probe = (
            ocsp.OCSPRequestBuilder()
            .add_certificate(certificate, certificate, hashes.SHA256())
            .build()
        )
        issuers.append((probe.issuer_key_hash, certificate, key))
    revoked = {int(serial, 16) for serial in config.get("revoked", [])}
    next_update = dt.timedelta(seconds=config.get("next_update_seconds", 3600))
    stranger = ec.generate_private_key(ec.SECP256R1())
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    stranger_name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Stranger OCSP")])
    stranger_certificate = (
        x509.CertificateBuilder()
        .subject_name(stranger_name)
        .issuer_name(stranger_name)
        .public_key(stranger.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=30))
        .add_extension(
            x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False
        )
        .sign(stranger, hashes.SHA256())
    )
    counter = {"count": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self._send(json.dumps(counter).encode(), "application/json")

        def do_POST(self):
            counter["count"] += 1
            request = ocsp.load_der_ocsp_request(
                self.rfile.read(int(self.headers["Content-Length"]))
            )
            now = dt.datetime.now(dt.UTC)
            match = next((i for i in issuers if i[0] == request.issuer_key_hash), None)
            if match is None:
                self._send(
                    ocsp.OCSPResponseBuilder.build_unsuccessful(
                        ocsp.OCSPResponseStatus.UNAUTHORIZED
                    ).public_bytes(serialization.Encoding.DER),
                    "application/ocsp-response",
                )
                return
            _hash, issuer, key = match
            status = (
                ocsp.OCSPCertStatus.REVOKED
                if request.serial_number in revoked
                else ocsp.OCSPCertStatus.GOOD
            )
            # The CertID takes the issuer's name and key from ``issuer``, the serial from the
            # certificate: a stand-in with the serial asked about will do.
            stand_in = (
                x509.CertificateBuilder()
                .subject_name(issuer.subject)
                .issuer_name(issuer.subject)
                .public_key(stranger.public_key())
                .serial_number(request.serial_number)
                .not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=1))
                .sign(key, hashes.SHA256())
            )
            builder = ocsp.OCSPResponseBuilder().add_response(
                cert=stand_in,
                issuer=issuer,
                algorithm=request.hash_algorithm,
                cert_status=status,
                this_update=now - dt.timedelta(seconds=5),
                next_update=now + next_update,
                revocation_time=now - dt.timedelta(hours=1)
                if status == ocsp.OCSPCertStatus.REVOKED
                else None,
                revocation_reason=None,
            )
            if config.get("forge"):  # a responder certificate the issuer never signed
                builder = builder.responder_id(
                    ocsp.OCSPResponderEncoding.HASH, stranger_certificate
                ).certificates([stranger_certificate])
                signer = stranger
            else:
                builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, issuer)
                builder = builder.certificates([issuer])
                signer = key
            der = builder.sign(signer, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
            self._send(der, "application/ocsp-response")

        def _send(self, body: bytes, kind: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", config["port"]), Handler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
