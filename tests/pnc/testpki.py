"""A local eMobility test PKI built with ``cryptography``: root → sub-CA → contract leaf
(CN = eMAID), station CSRs, and OCSP responses signed by the issuing CA."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

NOW = dt.datetime.now(dt.UTC)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def issue(cn, key, *, issuer=None, issuer_key=None, ca=True, days=365, start=None, ocsp_url=None):
    start = start or NOW - dt.timedelta(days=1)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer.subject if issuer else _name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ocsp_url:  # Authority Information Access: the responder to ask
        builder = builder.add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        x509.oid.AuthorityInformationAccessOID.OCSP,
                        x509.UniformResourceIdentifier(ocsp_url),
                    )
                ]
            ),
            critical=False,
        )
    return builder.sign(issuer_key or key, hashes.SHA256())


def pem(*certificates) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certificates)


class LocalPki:
    def __init__(self, emaid: str = "FRCGR0000000001", ocsp_url: str | None = None) -> None:
        self.ocsp_url = ocsp_url
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.root = issue("Test V2G Root", self.root_key)
        self.sub_key = ec.generate_private_key(ec.SECP256R1())
        self.sub = issue(
            "Test MO Sub-CA",
            self.sub_key,
            issuer=self.root,
            issuer_key=self.root_key,
            ocsp_url=ocsp_url,
        )
        self.leaf_key = ec.generate_private_key(ec.SECP256R1())
        self.emaid = emaid
        self.leaf = self.contract(emaid)

    def contract(self, emaid: str, **kw) -> x509.Certificate:
        kw.setdefault("ocsp_url", self.ocsp_url)
        return issue(emaid, self.leaf_key, issuer=self.sub, issuer_key=self.sub_key, ca=False, **kw)

    def chain(self, leaf=None) -> str:
        return pem(leaf or self.leaf, self.sub)

    def ocsp(self, certificate, issuer, issuer_key, status: str = "GOOD", signer=None) -> bytes:
        """Signed by the issuer, or by ``signer`` (certificate, key) when given."""
        cert_status = getattr(ocsp.OCSPCertStatus, status)
        builder = ocsp.OCSPResponseBuilder().add_response(
            cert=certificate,
            issuer=issuer,
            algorithm=hashes.SHA256(),
            cert_status=cert_status,
            this_update=NOW - dt.timedelta(hours=1),
            next_update=NOW + dt.timedelta(days=1),
            revocation_time=NOW - dt.timedelta(hours=2) if status == "REVOKED" else None,
            revocation_reason=None,
        )
        by, key = signer or (issuer, issuer_key)
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, by)
        if signer:
            builder = builder.certificates([by])
        return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def hash_data(self, certificate, issuer) -> dict:
        request = (
            ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, hashes.SHA256()).build()
        )
        return {
            "hashAlgorithm": "SHA256",
            "issuerNameHash": request.issuer_name_hash.hex(),
            "issuerKeyHash": request.issuer_key_hash.hex(),
            "serialNumber": format(request.serial_number, "X"),
            "responderURL": "http://ocsp.test.invalid/",
        }


def station_csr(common_name: str) -> tuple[str, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(_name(common_name))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode(), key


def key_pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
