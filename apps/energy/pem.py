"""Checks of the TLS material a VEN is given (PEM text), before it is stored: a certificate,
its private key (RSA: openleadr signs OpenADR messages with RSA-SHA256, unencrypted PEM) that
belongs to it, and the VTN's CA certificate(s)."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def check(*, cert_pem: str, key_pem: str, ca_pem: str) -> None:
    """Raise a ``ValidationError`` (per field) for material that cannot work."""
    errors: dict[str, list] = {}
    certificate = key = None
    if cert_pem:
        try:
            certificate = x509.load_pem_x509_certificate(cert_pem.encode())
        except ValueError:
            errors["client_cert_pem"] = [_("Not a PEM certificate.")]
    if key_pem:
        try:
            key = serialization.load_pem_private_key(key_pem.encode(), password=None)
        except (ValueError, TypeError):
            errors["client_key_pem"] = [
                _("Not a PEM private key (it must not be protected by a passphrase).")
            ]
        else:
            if not isinstance(key, rsa.RSAPrivateKey):
                errors["client_key_pem"] = [
                    _("OpenADR messages are signed with RSA: use an RSA key.")
                ]
    if certificate is not None and isinstance(key, rsa.RSAPrivateKey):
        if certificate.public_key().public_numbers() != key.public_key().public_numbers():
            errors["client_key_pem"] = [_("This private key does not belong to the certificate.")]
    if ca_pem:
        try:
            x509.load_pem_x509_certificates(ca_pem.encode())
        except ValueError:
            errors["vtn_ca_pem"] = [_("Not a PEM certificate.")]
    if errors:
        raise ValidationError(errors)


def fingerprint_of(cert_pem: str) -> str:
    """The certificate's OpenADR fingerprint, or '' when it cannot be read."""
    from .openadr import fingerprint

    try:
        return fingerprint(cert_pem) if cert_pem else ""
    except ValueError:
        return ""
