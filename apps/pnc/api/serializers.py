from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from rest_framework import serializers

from apps.ocpp import payloads

from ..models import (
    CertificateAuthority,
    InstalledCertificate,
    PncSettings,
    StationCertificate,
    TrustedRoot,
)


class CertificateAuthoritySerializer(serializers.ModelSerializer):
    """The tenant CA's certificate (its private key never leaves the server)."""

    class Meta:
        model = CertificateAuthority
        fields = ["id", "name", "certificate_pem", "not_after", "created_at"]


class StationCertificateSerializer(serializers.ModelSerializer):
    class Meta:
        model = StationCertificate
        fields = [
            "id",
            "station",
            "certificate_type",
            "serial_number",
            "subject",
            "certificate_pem",
            "not_before",
            "not_after",
            "status",
            "renewal_requested_at",
            "created_at",
        ]


class TrustedRootSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrustedRoot
        fields = ["id", "name", "certificate_pem", "subject", "fingerprint", "not_after"]
        read_only_fields = ["subject", "fingerprint", "not_after"]


class TrustedRootInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    certificate_pem = serializers.CharField()


class InstalledCertificateSerializer(serializers.ModelSerializer):
    """A certificate the station reported holding (hash data as OCPP names it)."""

    class Meta:
        model = InstalledCertificate
        fields = [
            "id",
            "station",
            "certificate_type",
            "hash_algorithm",
            "issuer_name_hash",
            "issuer_key_hash",
            "serial_number",
            "parent_serial_number",
            "subject",
            "reported_at",
        ]


class CertificateInstallSerializer(serializers.Serializer):
    certificate_type = serializers.ChoiceField(choices=payloads.INSTALL_TYPES_201)
    certificate_pem = serializers.CharField()


class CertificateRefreshSerializer(serializers.Serializer):
    certificate_types = serializers.ListField(
        child=serializers.ChoiceField(choices=payloads.INSTALLED_TYPES_201),
        required=False,
        default=list,
    )


class CertificateCommandSerializer(serializers.Serializer):
    """The station's answer and what is now recorded as installed on it."""

    status = serializers.CharField()
    response = serializers.JSONField()
    installed = InstalledCertificateSerializer(many=True)


def _url_field(help_text: str) -> serializers.CharField:
    """An http(s) URL or "": checked in ``validate_<name>``, not by a validator, so that the
    schema says a plain string (a blank URL field is a oneOf that "" matches twice)."""
    return serializers.CharField(
        max_length=200, allow_blank=True, required=False, help_text=help_text
    )


def _url_check(value: str) -> str:
    if value:
        try:
            URLValidator(schemes=["http", "https"])(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error
    return value


class PncSettingsSerializer(serializers.ModelSerializer):
    pool_url = _url_field("Where Get15118EVCertificate is passed (JSON POST); empty: none.")
    ocsp_responder_url = _url_field(
        "Asked for every certificate; empty: the responder named in the certificate."
    )

    def validate_pool_url(self, value: str) -> str:
        return _url_check(value)

    def validate_ocsp_responder_url(self, value: str) -> str:
        return _url_check(value)

    class Meta:
        model = PncSettings
        fields = [
            "id",
            "pool_url",
            "pool_timeout_seconds",
            "pool_ca_pem",
            "ocsp_responder_url",
            "ocsp_timeout_seconds",
            "accept_unknown_ocsp",
        ]
        extra_kwargs = {
            "pool_timeout_seconds": {"min_value": 0.1, "max_value": 30},
            "ocsp_timeout_seconds": {"min_value": 0.1, "max_value": 30},
        }
