"""Test helpers: a signed image, and a fleet of stations in the database."""

from __future__ import annotations

import base64
import datetime as dt
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID


def image_bytes(size: int = 4096) -> bytes:
    return b"CGFW" + os.urandom(size - 4)


def signer() -> tuple[rsa.RSAPrivateKey, str]:
    """A vendor's signing key and its (self-signed) certificate in PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ChargeGrid firmware signing")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return key, certificate.public_bytes(serialization.Encoding.PEM).decode()


def sign(key: rsa.RSAPrivateKey, data: bytes) -> str:
    return base64.b64encode(key.sign(data, padding.PKCS1v15(), hashes.SHA256())).decode()
