"""Image integrity: SHA-256 and size always; for signed images the vendor's signature over the
image checked against the public key of its signing certificate (what a station does before
installing a 2.0.1 signed update).  RSA (PKCS#1 v1.5) and ECDSA signatures with SHA-256."""

from __future__ import annotations

import base64
import hashlib

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa


class SignatureError(ValueError):
    pass


def sha256_of(chunks) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def verify_signature(*, data: bytes, signature_b64: str, certificate_pem: str) -> None:
    try:
        certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
        signature = base64.b64decode(signature_b64, validate=True)
    except (ValueError, TypeError) as error:
        raise SignatureError(f"Unreadable certificate or signature: {error}") from error
    key = certificate.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            raise SignatureError("Only RSA and ECDSA signing certificates are supported")
    except InvalidSignature as error:
        raise SignatureError("The signature does not match the image") from error
