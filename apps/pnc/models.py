"""Plug & Charge (ISO 15118 through OCPP 2.0.1): the tenant's CA, the certificates it signed
for stations, the eMobility roots it trusts and the OCSP responses it holds."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.scoping import RestrictedManager


class CertificateAuthority(models.Model):
    """The tenant's CA (one per tenant schema), created on first need.  Its private key is
    stored as encrypted PKCS#8 (``pki.key_password``: derived from SECRET_KEY and the schema)."""

    name = models.CharField(_("name"), max_length=200)
    certificate_pem = models.TextField()
    key_pem_encrypted = models.TextField()
    not_after = models.DateTimeField(_("valid until"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()  # tenant-wide: all-sites actors only
    scope_site_path = None

    def __str__(self) -> str:
        return self.name


class CertificateType(models.TextChoices):
    STATION = "ChargingStationCertificate", _("Charging station")
    V2G = "V2GCertificate", _("V2G (ISO 15118)")


class SignStatus(models.TextChoices):
    SIGNED = "signed", _("Signed, being sent")
    ACCEPTED = "accepted", _("Installed by the station")
    REJECTED = "rejected", _("Refused by the station")
    FAILED = "failed", _("Not delivered")


class StationCertificate(models.Model):
    station = models.ForeignKey(
        "stations.Station", on_delete=models.CASCADE, related_name="pnc_certificates"
    )
    certificate_type = models.CharField(max_length=32, choices=CertificateType.choices)
    serial_number = models.CharField(max_length=64)
    subject = models.CharField(max_length=500)
    certificate_pem = models.TextField()
    not_before = models.DateTimeField()
    not_after = models.DateTimeField(_("expires"))
    status = models.CharField(max_length=16, choices=SignStatus.choices, default=SignStatus.SIGNED)
    renewal_requested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()
    scope_site_path = "station__site"

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["station", "certificate_type", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.certificate_type} {self.serial_number}"


class TrustedRoot(models.Model):
    """An eMobility (V2G / MO) root the tenant trusts for contract certificates."""

    name = models.CharField(_("name"), max_length=200)
    certificate_pem = models.TextField()
    subject = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=64, unique=True)  # SHA-256, hex
    not_after = models.DateTimeField(_("valid until"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()  # tenant-wide
    scope_site_path = None

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OcspResponse(models.Model):
    """A cached OCSP response (DER) for one certificate, keyed as OCPP's OCSPRequestDataType
    and iso15118CertificateHashData name it (hashes hex, lower case; serial hex)."""

    hash_algorithm = models.CharField(max_length=8)  # SHA256 / SHA384 / SHA512
    issuer_name_hash = models.CharField(max_length=128)
    issuer_key_hash = models.CharField(max_length=128)
    serial_number = models.CharField(max_length=64)
    cert_status = models.CharField(max_length=16)  # GOOD / REVOKED / UNKNOWN
    response_der = models.BinaryField()
    this_update = models.DateTimeField()
    next_update = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hash_algorithm", "issuer_name_hash", "issuer_key_hash", "serial_number"],
                name="pnc_ocsp_one_per_certificate",
            )
        ]

    def __str__(self) -> str:
        return f"OCSP {self.serial_number}: {self.cert_status}"


class PncSettings(models.Model):
    """One row per tenant: where EV contract certificates come from (M01/M02), which OCSP
    responder answers for them, and what happens when neither answers."""

    pool_url = models.URLField(_("contract certificate pool URL"), blank=True)
    pool_timeout_seconds = models.FloatField(_("pool timeout (s)"), default=5.0)
    accept_unknown_ocsp = models.BooleanField(
        _("accept contracts whose OCSP status is unknown"), default=False
    )
    pool_ca_pem = models.TextField(
        _("CA certificates of the provider (PEM)"),
        blank=True,
        help_text=_("Trusted for the provider's HTTPS endpoint; empty: the system's CAs."),
    )
    ocsp_responder_url = models.URLField(
        _("OCSP responder URL"),
        blank=True,
        help_text=_("Asked for every certificate; empty: the responder named in the certificate."),
    )
    ocsp_timeout_seconds = models.FloatField(_("OCSP timeout (s)"), default=3.0)

    objects = RestrictedManager()  # tenant-wide: all-sites actors only
    scope_site_path = None

    def __str__(self) -> str:
        return self.pool_url or "Plug & Charge settings"


class InstalledCertificate(models.Model):
    """A certificate a station reported holding (GetInstalledCertificateIds), or installed at
    our request; identified, as OCPP does, by its hash data (hex, lower case)."""

    station = models.ForeignKey(
        "stations.Station", on_delete=models.CASCADE, related_name="pnc_installed_certificates"
    )
    certificate_type = models.CharField(_("type"), max_length=32)
    hash_algorithm = models.CharField(max_length=8)
    issuer_name_hash = models.CharField(max_length=128)
    issuer_key_hash = models.CharField(max_length=128)
    serial_number = models.CharField(_("serial number"), max_length=40)
    parent_serial_number = models.CharField(max_length=40, blank=True)  # sub-CA of a chain
    subject = models.CharField(_("subject"), max_length=500, blank=True)  # when we installed it
    reported_at = models.DateTimeField(_("reported"))

    objects = RestrictedManager()
    scope_site_path = "station__site"

    class Meta:
        ordering = ["station_id", "certificate_type", "serial_number"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "station",
                    "hash_algorithm",
                    "issuer_name_hash",
                    "issuer_key_hash",
                    "serial_number",
                ],
                name="pnc_installed_one_per_station",
            )
        ]

    def __str__(self) -> str:
        return f"{self.certificate_type} {self.serial_number}"

    def hash_data(self) -> dict[str, str]:
        return {
            "hash_algorithm": self.hash_algorithm,
            "issuer_name_hash": self.issuer_name_hash,
            "issuer_key_hash": self.issuer_key_hash,
            "serial_number": self.serial_number,
        }
