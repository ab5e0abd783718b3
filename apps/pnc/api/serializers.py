from __future__ import annotations

from rest_framework import serializers

from ..models import CertificateAuthority, StationCertificate, TrustedRoot


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
