"""Public-schema tables: who the tenants are and how requests find them."""

import hashlib
import hmac
import re
import secrets
import zoneinfo

from django.conf import settings as django_settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import connection, models
from django.utils.translation import gettext_lazy as _
from django_tenants.clone import CloneSchema
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import schema_exists

from .choices import Language

SLUG_PATTERN = r"^[a-z][a-z0-9-]{1,40}[a-z0-9]$"
RESERVED_SLUGS = {"public", "www", "admin", "api", "static", "media", "template", "ocpp"}


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


def validate_currency(value: str) -> None:
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise ValidationError(_("Use an ISO 4217 code such as CAD or EUR."))


class Tenant(TenantMixin):
    """One customer organisation; its data lives in the PostgreSQL schema ``schema_name``."""

    name = models.CharField(max_length=200)
    slug = models.CharField(
        max_length=42,
        unique=True,
        validators=[RegexValidator(SLUG_PATTERN, _("Lower-case letters, digits and dashes."))],
    )
    currency = models.CharField(max_length=3, default="CAD", validators=[validate_currency])
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.ENGLISH)
    accept_unknown_stations = models.BooleanField(
        default=False,
        help_text=_(
            "Stations that connect to this tenant's host with an unknown identity are "
            "registered as pending (their first password is kept) for an admin to accept."
        ),
    )
    is_template = models.BooleanField(
        default=False, help_text=_("The schema new tenants are cloned from; serves no requests.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    auto_create_schema = True
    # The template holds only reference data (built-in roles); copy it.
    clone_mode = "DATA"

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.slug in RESERVED_SLUGS and not self.is_template:
            raise ValidationError({"slug": _("This name is reserved.")})

    def create_schema(self, check_if_exists=False, sync_schema=True, verbosity=1):
        """Clone the template schema (tables, data, its ``django_migrations`` rows).

        django-tenants then runs ``migrate_schemas --fake`` on the copy, which costs a
        migration-graph load and would mark migrations the template lacks as applied; the
        cloned history is already exact, and ``migrate_schemas`` brings template and tenants
        forward together.
        """
        base = django_settings.TENANT_BASE_SCHEMA
        if not sync_schema or self.is_template or not schema_exists(base):
            return super().create_schema(check_if_exists, sync_schema, verbosity)
        if check_if_exists and schema_exists(self.schema_name):
            return False
        CloneSchema().clone_schema(base, self.schema_name, self.clone_mode)
        connection.set_schema_to_public()
        return True

    @staticmethod
    def schema_for_slug(slug: str) -> str:
        return "t_" + slug.replace("-", "_")


class Domain(DomainMixin):
    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class StationIdentity(models.Model):
    """Public registry: which tenant a station's OCPP identity belongs to, and its password.

    Every station connects to the same URL (``/ocpp/<identity>``); the consumer resolves the
    tenant here once, at the handshake.  The password (security profile 1, HTTP Basic) is
    stored as a Django password hash.
    """

    identity = models.CharField(max_length=48, unique=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="station_identities")
    password_hash = models.CharField(max_length=256, blank=True)
    # A new password sent to the station (rotation): both work until the station logs in
    # with the new one, which then replaces the old.
    pending_password_hash = models.CharField(max_length=256, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["identity"]
        verbose_name_plural = "station identities"

    def __str__(self) -> str:
        return self.identity

    # Station passwords are machine-generated (OCPP 2.0.1: 16-40 characters), so a salted
    # SHA-256 is enough and keeps 10,000 reconnecting stations from costing a PBKDF2 each.
    def set_password(self, raw: str | None) -> None:
        if not raw:
            self.password_hash = ""
            return
        salt = secrets.token_hex(8)
        self.password_hash = f"sha256${salt}${_station_digest(salt, raw)}"

    def check_password(self, raw: str | None) -> bool:
        """Whether ``raw`` lets the station in: its password, or its rotated (pending) one,
        which then becomes the only one."""
        if station_password_matches(self.password_hash, raw):
            return True
        if not station_password_matches(self.pending_password_hash, raw):
            return False
        station_password_promote(identity=self.identity, pending_hash=self.pending_password_hash)
        self.password_hash, self.pending_password_hash = self.pending_password_hash, ""
        return True


def station_password_promote(*, identity: str, pending_hash: str) -> None:
    """The station logged in with its rotated password: it replaces the old one (only if no
    other rotation was staged meanwhile)."""
    StationIdentity.objects.filter(identity=identity, pending_password_hash=pending_hash).update(
        password_hash=pending_hash, pending_password_hash=""
    )


def station_password_matches(password_hash: str, raw: str | None) -> bool:
    """Whether ``raw`` is the password ``password_hash`` was made from (this model's salted
    SHA-256, or any Django password hash from before it)."""
    if not password_hash or raw is None:
        return False
    scheme, _, rest = password_hash.partition("$")
    if scheme != "sha256":
        return check_password(raw, password_hash)
    salt, separator, digest = rest.partition("$")
    return bool(separator) and hmac.compare_digest(digest, _station_digest(salt, raw))


def _station_digest(salt: str, raw: str) -> str:
    return hashlib.sha256(f"{salt}:{raw}".encode()).hexdigest()
