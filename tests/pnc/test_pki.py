"""The PKI rules without a server: CSR checks, chain verification outcomes, OCSP parsing,
and the CA key encrypted at rest."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from apps.pnc import pki
from tests.pnc.testpki import NOW, LocalPki, station_csr


def test_csr_checks():
    csr, _ = station_csr("CP-1")
    assert pki.csr_check(csr, common_name="CP-1")
    with pytest.raises(pki.CsrError, match="common name"):
        pki.csr_check(csr, common_name="CP-2")
    with pytest.raises(pki.CsrError, match="PEM"):
        pki.csr_check("garbage", common_name=None)
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    weak_csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CP-1")]))
        .sign(weak, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
        .decode()
    )
    with pytest.raises(pki.CsrError, match="2048"):
        pki.csr_check(weak_csr, common_name="CP-1")


def test_ca_key_encrypted_and_signs():
    ca = pki.ca_create(name="t CA", password=b"secret", now=NOW)
    assert "ENCRYPTED PRIVATE KEY" in ca.key_pem_encrypted
    with pytest.raises((TypeError, ValueError)):
        serialization.load_pem_private_key(ca.key_pem_encrypted.encode(), None)
    csr, _ = station_csr("CP-1")
    cert = pki.csr_sign(
        pki.csr_check(csr, common_name="CP-1"),
        ca_certificate_pem=ca.certificate_pem,
        ca_key_pem_encrypted=ca.key_pem_encrypted,
        password=b"secret",
        now=NOW,
        days=30,
    )
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca.certificate_pem.encode()))
    assert cert.not_valid_after_utc - NOW < dt.timedelta(days=31)


def test_chain_outcomes():
    local = LocalPki()
    chain = [local.leaf, local.sub]
    assert pki.chain_verify(chain, [local.root], now=NOW) == pki.ACCEPTED
    assert pki.chain_verify(chain, [], now=NOW) == pki.CHAIN_ERROR
    assert pki.chain_verify([local.leaf], [local.root], now=NOW) == pki.CHAIN_ERROR
    other = LocalPki()
    assert pki.chain_verify([local.leaf, other.sub], [local.root], now=NOW) == pki.SIGNATURE_ERROR
    old = local.contract(local.emaid, start=NOW - dt.timedelta(days=30), days=10)
    assert pki.chain_verify([old, local.sub], [local.root], now=NOW) == pki.EXPIRED
    assert pki.chain_verify([], [local.root], now=NOW) == pki.NO_CERTIFICATE


def test_ocsp_parse_matches_hash_data():
    local = LocalPki()
    parsed = pki.ocsp_parse(local.ocsp(local.leaf, local.sub, local.sub_key, "REVOKED"))
    ident = pki.cert_id(local.leaf, local.sub)
    assert parsed.cert_status == "REVOKED"
    assert (parsed.issuer_name_hash, parsed.issuer_key_hash) == (
        ident["issuer_name_hash"],
        ident["issuer_key_hash"],
    )
    assert pki.normal_hex(parsed.serial_number) == pki.normal_hex(ident["serial_number"])
