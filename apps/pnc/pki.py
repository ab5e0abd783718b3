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
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
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
    # Several trusted roots may share a name (a rollover): any one that signed it will do.
    failure = CHAIN_ERROR
    for root in roots:
        if root.subject != top.issuer:
            continue
        try:
            top.verify_directly_issued_by(root)
        except InvalidSignature:
            failure = SIGNATURE_ERROR
            continue
        except (ValueError, TypeError):
            continue
        if not root.not_valid_before_utc <= now <= root.not_valid_after_utc:
            failure = EXPIRED
            continue
        return ACCEPTED
    return failure


def issuing_root(
    certificate: x509.Certificate, roots: list[x509.Certificate]
) -> x509.Certificate | None:
    """The trusted root that signed ``certificate`` (several may share its issuer's name)."""
    for root in roots:
        if root.subject != certificate.issuer:
            continue
        try:
            certificate.verify_directly_issued_by(root)
        except (InvalidSignature, ValueError, TypeError):
            continue
        return root
    return None


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


# --- OCSP: asking the responder ----------------------------------------------------------------


def ocsp_request_der(entry: dict[str, str]) -> bytes:
    """An OCSP request for one certificate, from its hash data (what a station sends, or
    ``cert_id`` of a chain)."""
    algorithm = str(entry.get("hash_algorithm", "")).upper()
    if algorithm not in HASHES:
        raise ValueError(f"unsupported hash algorithm {algorithm!r}")
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(
            bytes.fromhex(entry["issuer_name_hash"]),
            bytes.fromhex(entry["issuer_key_hash"]),
            int(entry["serial_number"], 16),
            HASHES[algorithm](),
        )
        .build()
    )
    return request.public_bytes(serialization.Encoding.DER)


def ocsp_responder_url(certificate: x509.Certificate) -> str:
    """The OCSP responder the certificate names (Authority Information Access), or ""."""
    try:
        access = certificate.extensions.get_extension_for_class(
            x509.AuthorityInformationAccess
        ).value
    except x509.ExtensionNotFound:
        return ""
    for description in access:
        if description.access_method == x509.oid.AuthorityInformationAccessOID.OCSP:
            return str(description.access_location.value)
    return ""


def _key_hash(certificate: x509.Certificate, algorithm: str) -> str:
    """The issuer key hash OCSP would use for certificates ``certificate`` issued (a CertID
    takes its issuer's name and key hashes from the issuer alone)."""
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(certificate, certificate, HASHES[algorithm]())
        .build()
    )
    return request.issuer_key_hash.hex()


def _verifies(response: ocsp.OCSPResponse, signer: x509.Certificate) -> bool:
    key = signer.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(
                response.signature,
                response.tbs_response_bytes,
                ec.ECDSA(response.signature_hash_algorithm),
            )
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(
                response.signature,
                response.tbs_response_bytes,
                padding.PKCS1v15(),
                response.signature_hash_algorithm,
            )
        else:
            return False
    except (InvalidSignature, TypeError, ValueError):
        return False
    return True


def _is_ocsp_signer(certificate: x509.Certificate) -> bool:
    try:
        usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return ExtendedKeyUsageOID.OCSP_SIGNING in usage


def ocsp_response_check(
    der: bytes,
    entry: dict[str, str],
    *,
    issuer: x509.Certificate | None,
    roots: list[x509.Certificate],
    now: dt.datetime,
) -> ParsedOcsp:
    """A responder's answer, trusted only when it is about the certificate asked for, current,
    and signed by the certificate's issuer or by a responder certificate the issuer signed
    for OCSP.  The issuer is ``issuer`` (a chain's next certificate) or, for hash data alone,
    a trusted root with that key hash or a certificate in the response that a trusted root
    signed and whose key hash matches.  ValueError otherwise."""
    parsed = ocsp_parse(der)
    algorithm = parsed.hash_algorithm
    if (
        algorithm != str(entry.get("hash_algorithm", "")).upper()
        or parsed.issuer_name_hash != str(entry.get("issuer_name_hash", "")).lower()
        or parsed.issuer_key_hash != str(entry.get("issuer_key_hash", "")).lower()
        or normal_hex(parsed.serial_number) != normal_hex(str(entry.get("serial_number", "")))
    ):
        raise ValueError("the OCSP response is about another certificate")
    if parsed.this_update > now + dt.timedelta(minutes=5):
        raise ValueError("the OCSP response is from the future")
    if parsed.next_update is not None and parsed.next_update < now:
        raise ValueError("the OCSP response is out of date")
    response = ocsp.load_der_ocsp_response(der)
    included = list(response.certificates)
    issuers = [issuer] if issuer is not None else []
    if not issuers:
        for candidate in [*roots, *included]:
            if _key_hash(candidate, algorithm) != parsed.issuer_key_hash:
                continue
            if candidate in roots or _signed_by_any(candidate, roots, now=now):
                issuers.append(candidate)
    for known in issuers:
        if _key_hash(known, algorithm) != parsed.issuer_key_hash:
            continue
        if _verifies(response, known):
            return parsed
        for delegate in included:  # a responder certificate the issuer signed for OCSP
            if (
                _is_ocsp_signer(delegate)
                and _signed_by_any(delegate, [known], now=now)
                and _verifies(response, delegate)
            ):
                return parsed
    raise ValueError("the OCSP response is not signed by the certificate's issuer")


def _signed_by_any(
    certificate: x509.Certificate, issuers: list[x509.Certificate], *, now: dt.datetime
) -> bool:
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        return False
    for issuer in issuers:
        try:
            certificate.verify_directly_issued_by(issuer)
        except (InvalidSignature, ValueError, TypeError):
            continue
        return True
    return False
