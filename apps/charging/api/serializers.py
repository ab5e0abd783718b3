from __future__ import annotations

from rest_framework import serializers

from ..models import ChargingSession, IdToken, MeterValue


class IdTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = IdToken
        fields = [
            "id",
            "uid",
            "token_type",
            "label",
            "is_active",
            "expires_at",
            "parent_uid",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]


class IdTokenInputSerializer(serializers.ModelSerializer):
    class Meta:
        model = IdToken
        fields = ["uid", "token_type", "label", "is_active", "expires_at", "parent_uid"]


class ChargingSessionSerializer(serializers.ModelSerializer):
    station_identity = serializers.CharField(source="station.identity", read_only=True)
    site = serializers.IntegerField(source="station.site_id", read_only=True, allow_null=True)
    evse_number = serializers.IntegerField(source="evse.evse_id", read_only=True)
    duration_seconds = serializers.SerializerMethodField()

    class Meta:
        model = ChargingSession
        fields = [
            "id",
            "station",
            "station_identity",
            "site",
            "evse",
            "evse_number",
            "connector_id",
            "transaction_id",
            "id_token",
            "token_type",
            "token",
            "status",
            "started_at",
            "ended_at",
            "charging_ended_at",
            "duration_seconds",
            "meter_start_wh",
            "meter_stop_wh",
            "energy_wh",
            "last_power_w",
            "stop_reason",
            "remote_start_id",
            "reservation_id",
        ]

    def get_duration_seconds(self, session: ChargingSession) -> int:
        return int(session.duration.total_seconds())


class MeterValueSerializer(serializers.ModelSerializer):
    class Meta:
        model = MeterValue
        fields = [
            "id",
            "station",
            "evse_id",
            "session",
            "timestamp",
            "measurand",
            "phase",
            "location",
            "context",
            "unit",
            "value",
        ]
