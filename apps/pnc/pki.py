"""X.509 work with ``cryptography``: the tenant CA, CSR checks and signing, contract chains
and OCSP responses.  Pure functions over PEM/DER; no database."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings

CA_YEARS = 10
HASHES = {"SHA256": hashes.SHA256, "SHA384": hashes.SHA384, "SHA512": hashes.SHA512}


class CsrError(ValueError):
    """A CSR the CA will not sign (the reason is logged on the station's events)."""


def key_password(schema_name: str) -> bytes:
    """The CA key's encryption password: HMAC of SECRET_KEY over the tenant's schema, so a
    database dump alone does not give the key away (rotate SECRET_KEY: re-encrypt first)."""
    message = f"chargegrid.pnc.ca:{schema_name}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest().encode()


@dataclass(frozen=True)
class NewCa:
    certificate_pem: str
    key_pem_encrypted: str
    not_after: dt.datetime


def ca_create(*, name: str, password: bytes, now: dt.datetime) -> NewCa:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "chargegrid"),
        ]
    )
    not_after = now + dt.timedelta(days=365 * CA_YEARS)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return NewCa(
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        key_pem_encrypted=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password),
        ).decode(),
        not_after=not_after,
    )


def csr_check(csr_pem: str, *, common_name: str | None) -> x509.CertificateSigningRequest:
    """A2/A3: well formed, self-signed correctly, a strong enough key, and (station
    certificates) the station's identity as its common name."""
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
    except ValueError as error:
        raise CsrError("not a PEM CSR") from error
    if not csr.is_signature_valid:
        raise CsrError("bad CSR signature")
    key = csr.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise CsrError("RSA key under 2048 bits")
    elif not isinstance(key, ec.EllipticCurvePublicKey):
        raise CsrError("unsupported key type")
    names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names:
        raise CsrError("no common name")
    if common_name is not None and names[0].value != common_name:
        raise CsrError(f"common name {names[0].value!r} is not the station's identity")
    return csr


def csr_sign(
    csr: x509.CertificateSigningRequest,
    *,
    ca_certificate_pem: str,
    ca_key_pem_encrypted: str,
    password: bytes,
    now: dt.datetime,
    days: int,
) -> x509.Certificate:
    ca = x509.load_pem_x509_certificate(ca_certificate_pem.encode())
    ca_key = serialization.load_pem_private_key(ca_key_pem_encrypted.encode(), password)
    return (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + dt.timedelta(days=days), ca.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )


def pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex()


def load_chain(text: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(text.encode())


def common_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


# AuthorizeCertificateStatusEnumType (2.0.1)
ACCEPTED = "Accepted"
SIGNATURE_ERROR = "SignatureError"
EXPIRED = "CertificateExpired"
REVOKED = "CertificateRevoked"
NO_CERTIFICATE = "NoCertificateAvailable"
CHAIN_ERROR = "CertChainError"


def chain_verify(
    chain: list[x509.Certificate], roots: list[x509.Certificate], *, now: dt.datetime
) -> str:
    """Leaf first; each certificate signed by the next, the last one by (or being) a trusted
    root; every one within its validity.  Answers a certificate status."""
    if not chain:
        return NO_CERTIFICATE
    for certificate in chain:
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            return EXPIRED
    for child, parent in zip(chain, chain[1:], strict=False):
        try:
            child.verify_directly_issued_by(parent)
        except InvalidSignature:
            return SIGNATURE_ERROR
        except (ValueError, TypeError):
            return CHAIN_ERROR
    top = chain[-1]
    trusted = {fingerprint(root) for root in roots}
    if fingerprint(top) in trusted:
        return ACCEPTED
    for root in roots:
        if root.subject != top.issuer:
            continue
        if not root.not_valid_before_utc <= now <= root.not_valid_after_utc:
            return EXPIRED
        try:
            top.verify_directly_issued_by(root)
        except InvalidSignature:
            return SIGNATURE_ERROR
        except (ValueError, TypeError):
            continue
        return ACCEPTED
    return CHAIN_ERROR


def cert_id(
    certificate: x509.Certificate, issuer: x509.Certificate, algorithm: str = "SHA256"
) -> dict[str, str]:
    """OCPP's certificate hash data (hex) for ``certificate`` issued by ``issuer``."""
    request = (
        ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, HASHES[algorithm]()).build()
    )
    return {
        "hash_algorithm": algorithm,
        "issuer_name_hash": request.issuer_name_hash.hex(),
        "issuer_key_hash": request.issuer_key_hash.hex(),
        "serial_number": format(request.serial_number, "x"),
    }


@dataclass(frozen=True)
class ParsedOcsp:
    hash_algorithm: str
    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str
    cert_status: str
    this_update: dt.datetime
    next_update: dt.datetime | None


def ocsp_parse(der: bytes) -> ParsedOcsp:
    response = ocsp.load_der_ocsp_response(der)
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise ValueError("the OCSP response is not successful")
    algorithm = response.hash_algorithm.name.upper()
    return ParsedOcsp(
        hash_algorithm=algorithm,
        issuer_name_hash=response.issuer_name_hash.hex(),
        issuer_key_hash=response.issuer_key_hash.hex(),
        serial_number=format(response.serial_number, "x"),
        cert_status=response.certificate_status.name,
        this_update=response.this_update_utc,
        next_update=response.next_update_utc,
    )


def normal_hex(value: str) -> str:
    """Hashes and serials as stations send them: hex, any case, maybe leading zeros."""
    value = (value or "").strip().lower()
    return value.lstrip("0") or "0" if value else ""
