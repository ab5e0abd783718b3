from django.db import models

from apps.core.scoping import RestrictedManager


class MessageLog(models.Model):
    """Every OCPP frame in and out, kept for a bounded time (OCPP_MESSAGE_LOG_DAYS)."""

    class Direction(models.TextChoices):
        IN = "in", "station → CSMS"
        OUT = "out", "CSMS → station"

    station = models.ForeignKey("stations.Station", on_delete=models.CASCADE, related_name="+")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    message_type = models.PositiveSmallIntegerField()
    unique_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(null=True)
    created_at = models.DateTimeField(db_index=True)

    objects = RestrictedManager()
    scope_site_path = "station__site"

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["station", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.direction} {self.action or self.message_type} {self.unique_id}"


class StationEvent(models.Model):
    """What a station notifies beyond status and transactions: firmware and diagnostics/log
    upload progress, security events, device-model reports, events, reservation updates."""

    class Kind(models.TextChoices):
        FIRMWARE = "firmware", "Firmware status"
        DIAGNOSTICS = "diagnostics", "Diagnostics / log upload status"
        SECURITY = "security", "Security event"
        REPORT = "report", "Device-model report"
        EVENT = "event", "Event notification"
        RESERVATION = "reservation", "Reservation status"
        CHARGING = "charging", "Charging limit / EV needs"
        DATA_TRANSFER = "data_transfer", "Data transfer"
        OTHER = "other", "Other"

    station = models.ForeignKey("stations.Station", on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    action = models.CharField(max_length=64)
    status = models.CharField(max_length=64, blank=True)
    request_id = models.IntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(db_index=True)

    objects = RestrictedManager()
    scope_site_path = "station__site"

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["station", "kind", "-occurred_at"])]

    def __str__(self) -> str:
        return f"{self.station} {self.action} {self.status}"


class StationMessageLimits(models.Model):
    """How much an OCPP 2.0.1 station takes in one message (B06-B08): its DeviceDataCtrlr
    ``ItemsPerMessage`` / ``BytesPerMessage`` variables per request (GetVariables,
    SetVariables, GetReport), as its device-model report said (``reported``) and as an admin
    overrides them for firmware that reports wrongly (``overrides``, which win).  Keys are
    ``ItemsPerMessage/GetVariables`` ... (see ``apps.ocpp.payloads.LIMIT_KEYS``)."""

    station = models.OneToOneField(
        "stations.Station", on_delete=models.CASCADE, related_name="message_limits"
    )
    reported = models.JSONField(default=dict, blank=True)
    overrides = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedManager()
    scope_site_path = "station__site"

    class Meta:
        verbose_name_plural = "station message limits"

    def __str__(self) -> str:
        return f"{self.station} message limits"

    def limit(self, key: str) -> int | None:
        value = self.overrides.get(key) or self.reported.get(key)
        return int(value) if value else None


class TransactionSequence(models.Model):
    """The seqNo values a 2.0.1 station has sent for one transaction (E, offline behaviour):
    a hole below the highest one is an event lost or still queued, asked about with
    GetTransactionStatus; ``lost`` is what the station no longer has."""

    station = models.ForeignKey("stations.Station", on_delete=models.CASCADE, related_name="+")
    transaction_id = models.CharField(max_length=36)
    seq_nos = models.JSONField(default=list, blank=True)
    first_seq_no = models.IntegerField(null=True, blank=True)  # the Started event's
    ended = models.BooleanField(default=False)  # the Ended event has come
    last_event_at = models.DateTimeField(null=True, blank=True)
    lost = models.JSONField(default=list, blank=True)

    objects = RestrictedManager()
    scope_site_path = "station__site"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["station", "transaction_id"], name="ocpp_sequence_per_transaction"
            )
        ]

    def __str__(self) -> str:
        return f"{self.station} {self.transaction_id}"

    def missing(self) -> list[int]:
        seen = set(self.seq_nos)
        if not seen:
            return []
        base = self.first_seq_no if self.first_seq_no is not None else min(seen)
        return [number for number in range(base, max(seen)) if number not in seen]
