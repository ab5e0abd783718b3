"""Roaming partners (eMSPs and hubs that connect to this tenant over OCPI), the tokens they
push to us, and the outbox of what we push to them (tenant schema)."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.scoping import RestrictedManager

from .choices import PartnerStatus, PushStatus, Whitelist

country_code_validator = RegexValidator(r"^[A-Z]{2}$", _("Two capital letters (ISO 3166-1)."))
party_id_validator = RegexValidator(r"^[A-Z0-9]{3}$", _("Three capital letters or digits."))


class Partner(models.Model):
    """One OCPI peer.  Two credentials tokens (OCPI 2.2.1 §7): ``incoming_token`` is the one we
    issued and they present to us (token A until they register, then the token C we gave them
    in exchange); ``outgoing_token`` is the one they gave us to call them (their B or C)."""

    name = models.CharField(_("name"), max_length=120)
    country_code = models.CharField(
        _("country code"), max_length=2, blank=True, validators=[country_code_validator]
    )
    party_id = models.CharField(
        _("party id"), max_length=3, blank=True, validators=[party_id_validator]
    )
    roles = ArrayField(models.CharField(max_length=10), default=list, blank=True)
    status = models.CharField(
        max_length=16, choices=PartnerStatus.choices, default=PartnerStatus.INVITED
    )
    versions_url = models.URLField(_("their versions URL"), max_length=500, blank=True)
    version = models.CharField(max_length=8, blank=True)
    # Their module endpoints from their version details: [{identifier, role, url}, ...]
    endpoints = models.JSONField(default=list, blank=True)
    incoming_token = models.CharField(max_length=128, unique=True)
    outgoing_token = models.CharField(max_length=128, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    connected_at = models.DateTimeField(null=True, blank=True)
    # Tokens pull: when the last complete pull started (the next asks from there, date_from).
    tokens_pulled_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.country_code}*{self.party_id})"

    @property
    def is_hub(self) -> bool:
        return "HUB" in self.roles

    def endpoint(self, identifier: str, role: str = "RECEIVER") -> str | None:
        """Their URL of a module (2.1.1 endpoints have no role: any matches)."""
        for entry in self.endpoints:
            if entry.get("identifier") == identifier and entry.get("role", role) == role:
                return entry["url"].rstrip("/")
        return None


class RemoteToken(models.Model):
    """A token of a partner's driver (OCPI Token object), pushed to us or pulled from them."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="tokens")
    country_code = models.CharField(max_length=2)
    party_id = models.CharField(max_length=3)
    uid = models.CharField(max_length=36)
    token_type = models.CharField(max_length=16, default="RFID")
    contract_id = models.CharField(max_length=36)
    visual_number = models.CharField(max_length=64, blank=True)
    issuer = models.CharField(max_length=64)
    group_id = models.CharField(max_length=36, blank=True)
    valid = models.BooleanField(default=True)
    whitelist = models.CharField(max_length=16, choices=Whitelist.choices)
    language = models.CharField(max_length=2, blank=True)
    last_updated = models.DateTimeField()
    data = models.JSONField(default=dict, encoder=DjangoJSONEncoder)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["partner", "uid"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "country_code", "party_id", "uid", "token_type"],
                name="roaming_token_unique",
            )
        ]
        indexes = [models.Index(fields=["uid"])]

    def __str__(self) -> str:
        return f"{self.country_code}*{self.party_id} {self.uid}"


class Push(models.Model):
    """One request to send to a partner (the outbox): created in the transaction of what it
    reports, sent by a Celery task that claims it first, retried with back-off."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="pushes")
    module = models.CharField(max_length=20)
    method = models.CharField(max_length=6)
    # Relative to the partner's module endpoint (``/CA/CGX/LOC1/EVSE1``), or an absolute URL
    # (a command's response_url).
    path = models.CharField(max_length=500)
    body = models.JSONField(encoder=DjangoJSONEncoder)
    # To a hub: the party it is for (country code + party id, "NLEMS"), sent as OCPI-to-*;
    # empty: the hub's own party.
    route_to = models.CharField(max_length=5, blank=True)
    # The object the push is about (a digest of module and path: one EVSE, one session): the
    # pushes of one object are sent one at a time, in order.  ``coalesce``: the push carries
    # the object's whole new state (an EVSE status PATCH), so a newer one replaces it unsent.
    object_key = models.CharField(max_length=40, blank=True)
    coalesce = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=PushStatus.choices, default=PushStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    ocpi_status = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["partner", "-created_at"]),
            models.Index(fields=["partner", "object_key"], name="roaming_push_object"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.module}{self.path} → {self.partner} ({self.status})"


class RoamingProfile(models.Model):
    """This tenant as an OCPI party (one row).  Billing keeps its own OCPI party for its
    tariff rendering; features do not read each other's tables, so the portal sets both."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    country_code = models.CharField(max_length=2, default="CA", validators=[country_code_validator])
    party_id = models.CharField(max_length=3, validators=[party_id_validator])
    business_name = models.CharField(max_length=100)

    objects = RestrictedManager()
    scope_site_path = None

    def __str__(self) -> str:
        return f"{self.country_code}*{self.party_id}"


class RemoteCommand(models.Model):
    """A command a partner sent us (OCPI commands module): answered at once with ACCEPTED or
    REJECTED, carried out by a Celery task, its result POSTed to ``response_url``."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="commands")
    command = models.CharField(max_length=20)
    body = models.JSONField(encoder=DjangoJSONEncoder)
    response_url = models.URLField(max_length=500)
    state = models.CharField(max_length=10, default="queued")  # queued, running, done
    result = models.CharField(max_length=24, blank=True)
    station_status = models.CharField(max_length=40, blank=True)
    # RESERVE_NOW / CANCEL_RESERVATION: the partner's reservation id, the OCPP reservationId we
    # gave the station (an int the station knows it by) and the station that holds it.
    reservation_id = models.CharField(max_length=36, blank=True)
    ocpp_reservation_id = models.PositiveIntegerField(null=True, blank=True)
    station = models.ForeignKey(
        "stations.Station", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Through a hub: the party that sent it (its OCPI-from-*, "NLEMS"); the result goes back
    # to it.  The OCPI version it was sent in: 2.1.1 answers a CommandResponse, not a Result.
    sender = models.CharField(max_length=5, blank=True)
    version = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["partner", "reservation_id"])]

    def __str__(self) -> str:
        return f"{self.command} from {self.partner} ({self.result or self.state})"


class SignedMeterValue(models.Model):
    """A signed meter reading a station sent during a partner's driver's session, kept as it
    came (OCMF or another format: never decoded here) for the CDR's ``signed_data``."""

    session = models.ForeignKey(
        "charging.ChargingSession", on_delete=models.CASCADE, related_name="+"
    )
    taken_at = models.CharField(max_length=40, blank=True)  # the station's timestamp, as sent
    context = models.CharField(max_length=24, blank=True)
    measurand = models.CharField(max_length=40, blank=True)
    signed_data = models.TextField()
    encoding = models.CharField(max_length=36, blank=True)
    signing_method = models.CharField(max_length=50, blank=True)
    public_key = models.TextField(blank=True)
    plain = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["session", "id"]

    def __str__(self) -> str:
        return f"{self.context or 'reading'} of session {self.session_id}"
