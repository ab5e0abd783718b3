"""Who is connecting: identity → tenant and station, checked before the upgrade is accepted.

Each station has a security profile (apps/stations, ``Station.security_profile``):

1. HTTP Basic auth: user = identity, password checked against the public registry.
2. The same, and the connection arrived over TLS.
3. A client certificate, verified by the TLS-terminating proxy, whose subject CN is the
   station's identity (and whose O is the tenant's CSO name when the tenant sets one).

TLS ends at a reverse proxy; what it says about the connection (``X-Forwarded-Proto``, the
verified certificate subject) is read from headers only when the TCP peer is one of
``OCPP_TRUSTED_PROXIES``.  See docs/ocpp.md and docs/deployment.md.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import functools
import ipaddress
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction

from .dbpool import run_in_tenant
from .groupcommit import GroupCommit

logger = logging.getLogger(__name__)


@dataclass
class StationAccess:
    refusal: int | None = None  # HTTP status to refuse the handshake with
    tenant: Any = None
    station_id: int | None = None
    lax: bool = False
    registration_status: str = "Accepted"


def basic_password(authorization: str | None, identity: str) -> str | None:
    """The password of an HTTP Basic header whose user is the station's identity."""
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, separator, password = decoded.partition(":")
    if not separator or user != identity:
        return None
    return password


# --- What a trusted proxy says about the connection -----------------------------------------
@dataclass(frozen=True)
class Transport:
    """The connection as a trusted reverse proxy describes it; from anyone else, nothing."""

    tls: bool = False
    client_subject: str | None = None  # subject DN of a certificate the proxy verified


@functools.cache
def _networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    try:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)
    except ValueError as error:
        raise ImproperlyConfigured(f"OCPP_TRUSTED_PROXIES: {error}") from error


def is_trusted_proxy(peer: str | None) -> bool:
    """Whether the TCP peer is one of ``OCPP_TRUSTED_PROXIES`` (a unix-socket peer never is)."""
    networks = _networks(tuple(settings.OCPP_TRUSTED_PROXIES))
    if not peer or not networks:
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def _only_header(headers: Iterable[tuple[bytes, bytes]], name: str) -> str | None:
    """The header's value; ``None`` when absent or sent more than once (ambiguous)."""
    key = name.lower().encode("latin-1")
    values = [value for header, value in headers if header.lower() == key]
    if len(values) != 1:
        return None
    return values[0].decode("latin-1").strip()


def transport_from(*, peer: str | None, headers: Iterable[tuple[bytes, bytes]]) -> Transport:
    """Read the proxy's headers, if the peer is a trusted proxy; otherwise ignore them."""
    if not is_trusted_proxy(peer):
        return Transport()
    headers = list(headers)
    proto = _only_header(headers, settings.OCPP_FORWARDED_PROTO_HEADER)
    verify = _only_header(headers, settings.OCPP_CLIENT_CERT_VERIFY_HEADER)
    subject = None
    if verify is not None and verify == settings.OCPP_CLIENT_CERT_VERIFY_SUCCESS:
        subject = _only_header(headers, settings.OCPP_CLIENT_CERT_DN_HEADER) or None
    return Transport(tls=(proto or "").lower() == "https", client_subject=subject)


# --- Distinguished names -----------------------------------------------------------------------
_ATTRIBUTE = re.compile(r"[A-Za-z][A-Za-z0-9-]*|(?:OID\.)?[0-9]+(?:\.[0-9]+)*", re.IGNORECASE)
_ALIASES = {
    "COMMONNAME": "CN",
    "2.5.4.3": "CN",
    "ORGANIZATIONNAME": "O",
    "2.5.4.10": "O",
}
_HEX = re.compile(r"[0-9A-Fa-f]{2}")
_LEGACY_SPLIT = re.compile(r"/(?=[A-Za-z][A-Za-z0-9.-]*=)")
_LEGACY_HEX = re.compile(r"\\x([0-9A-Fa-f]{2})")


def _attribute(name: str) -> str | None:
    name = name.strip()
    if not _ATTRIBUTE.fullmatch(name):
        return None
    name = name.upper().removeprefix("OID.")
    return _ALIASES.get(name, name)


def parse_dn(text: str | None) -> list[tuple[str, str]] | None:
    """A subject DN as (attribute, value) pairs, in the order written; ``None`` if malformed.

    Two spellings: RFC 2253/4514 (``CN=x,O=y``; nginx ``$ssl_client_s_dn``) with ``\\,``
    and ``\\XX`` (UTF-8 byte) escapes, and OpenSSL's one-line form (``/O=y/CN=x``; nginx
    ``$ssl_client_s_dn_legacy``, HAProxy ``ssl_c_s_dn``) with ``\\xXX`` escapes.
    Attribute names come back upper-case, ``commonName``/``2.5.4.3`` as ``CN`` and
    ``organizationName``/``2.5.4.10`` as ``O``.
    """
    text = (text or "").strip()
    if not text:
        return None
    if text.startswith("/"):
        return _parse_legacy(text)
    return _parse_rfc2253(text)


def _parse_legacy(text: str) -> list[tuple[str, str]] | None:
    pairs = []
    for part in _LEGACY_SPLIT.split(text[1:]):
        name, separator, value = part.partition("=")
        attribute = _attribute(name)
        if not separator or attribute is None:
            return None
        raw = _LEGACY_HEX.sub(lambda match: chr(int(match.group(1), 16)), value)
        # \xXX escapes are bytes of a UTF-8 string; the rest is plain text.
        try:
            decoded = raw.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            decoded = value
        pairs.append((attribute, decoded))
    return pairs


def _parse_rfc2253(text: str) -> list[tuple[str, str]] | None:
    pairs = []
    position, length = 0, len(text)
    while position < length:
        equals = text.find("=", position)
        if equals < 0:
            return None
        attribute = _attribute(text[position:equals])
        if attribute is None:
            return None
        position = equals + 1
        while position < length and text[position] == " ":
            position += 1
        value = bytearray()
        significant = 0  # unescaped trailing spaces are not part of the value
        while position < length:
            char = text[position]
            if char == "\\":
                pair = text[position + 1 : position + 3]
                if _HEX.fullmatch(pair):
                    value.append(int(pair, 16))
                    position += 3
                elif position + 1 < length:
                    value.extend(text[position + 1].encode("utf-8"))
                    position += 2
                else:
                    return None
                significant = len(value)
                continue
            if char in ",+;":
                break
            value.extend(char.encode("utf-8"))
            if char != " ":
                significant = len(value)
            position += 1
        try:
            pairs.append((attribute, bytes(value[:significant]).decode("utf-8")))
        except UnicodeDecodeError:
            return None
        if position < length:  # at a separator: another attribute must follow
            position += 1
            if position >= length or not text[position:].strip():
                return None
    return pairs


def certificate_matches(subject: str | None, *, identity: str, organization: str = "") -> bool:
    """Profile 3: exactly one CN, equal to the station's identity, and (when the tenant names
    its CSO) exactly one O, equal to that name."""
    pairs = parse_dn(subject)
    if pairs is None:
        return False
    if [value for name, value in pairs if name == "CN"] != [identity]:
        return False
    if organization and [value for name, value in pairs if name == "O"] != [organization]:
        return False
    return True


# --- The identity in the URL ----------------------------------------------------------------
MAX_IDENTITY = 48


def identity_from_scope(scope: dict) -> str | None:
    """The station identity: the last segment of the URL path as sent (``raw_path``),
    percent-decoded once; ``None`` (→ 404) when it cannot be a station's identity.

    Decoding the raw segment ourselves keeps ``%2F`` inside the identity (where it is then
    refused) instead of letting it split the path, and decodes ``%25`` only once."""
    raw = scope.get("raw_path")
    if raw:
        path = raw.decode("latin-1").split("?", 1)[0]
        _, found, segment = path.partition("/ocpp/")
        if not found:
            return None
        segment = segment.removesuffix("/")
        if "/" in segment:
            return None
        try:
            identity = unquote(segment, errors="strict")
        except UnicodeDecodeError:
            return None
    else:
        identity = scope.get("url_route", {}).get("kwargs", {}).get("identity", "")
    return identity if is_valid_identity(identity) else None


def is_valid_identity(identity: str) -> bool:
    """At most 48 characters, no path separators, dot segments, control characters or NUL
    (which PostgreSQL text cannot hold).  Anything else a station may use is allowed."""
    if not identity or len(identity) > MAX_IDENTITY or identity in (".", ".."):
        return False
    return not any(char == "/" or ord(char) < 0x20 or ord(char) == 0x7F for char in identity)


# --- What the handshake needs to know, cached per process ------------------------------------
@dataclass(frozen=True)
class KnownStation:
    """One registry row and its station's handshake facts, as loaded at ``loaded_at``."""

    tenant: Any
    station_id: int
    lax: bool
    registration_status: str
    security_profile: int
    password_hash: str
    pending_password_hash: str  # a rotated password on its way to the station, or ""
    cso_name: str
    loaded_at: float


class IdentityCache:
    """identity → KnownStation, so that a reconnecting station costs no database round trip.

    Kept correct by: eviction in this process when a registry row, a station or a tenant's
    security settings are saved or deleted (``identity_changed``, after commit too); the same
    message to every other process over Redis pub/sub; entries served only while this
    process is subscribed (a lost subscription may have missed messages: the cache is
    emptied and bypassed until it is back); and an age limit
    (``OCPP_IDENTITY_CACHE_SECONDS``) for writes that bypass signals (queryset ``update()``).
    A password that does not match a cached entry is checked again against the database."""

    def __init__(self) -> None:
        self._entries: dict[str, KnownStation] = {}
        self.listening = False
        self._listener: asyncio.Task | None = None

    def get(self, identity: str) -> KnownStation | None:
        if not self.listening:
            return None
        known = self._entries.get(identity)
        if known is None:
            return None
        if time.monotonic() - known.loaded_at > settings.OCPP_IDENTITY_CACHE_SECONDS:
            self._entries.pop(identity, None)
            return None
        return known

    def put(self, identity: str, known: KnownStation) -> None:
        if self.listening:
            self._entries[identity] = known

    def evict(self, identity: str | None) -> None:
        if identity is None:
            self._entries.clear()
        else:
            self._entries.pop(identity, None)

    def __len__(self) -> int:
        return len(self._entries)

    def listen(self) -> None:
        """Start hearing other processes' evictions (once per event loop)."""
        loop = asyncio.get_running_loop()
        if self._listener is None or self._listener.done() or self._listener.get_loop() is not loop:
            self._listener = loop.create_task(self._listen())

    async def _listen(self) -> None:
        import redis.asyncio

        while True:
            client = redis.asyncio.Redis.from_url(settings.REDIS_URL)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(_channel())
                    self._entries.clear()
                    self.listening = True
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            data = message["data"].decode()
                            self.evict(data[1:] if data.startswith("=") else None)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("Identity cache: lost its Redis subscription (%s)", error)
            finally:
                self.listening = False
                self._entries.clear()
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(1.0)


def _channel() -> str:
    prefix = settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix", "chargegrid")
    return f"{prefix}:ocpp-identity-changed"


identities = IdentityCache()


def identity_changed(identity: str | None) -> None:
    """A registry row, a station (``identity``) or a tenant's security settings (``None``: all)
    changed: forget it here now and, once committed, here and in every other process."""
    identities.evict(identity)

    def publish() -> None:
        identities.evict(identity)
        try:
            _publisher().publish(_channel(), "*" if identity is None else "=" + identity)
        except Exception as error:  # other processes fall back on the age limit
            logger.warning("Identity cache: could not publish a change (%s)", error)

    transaction.on_commit(publish)


# Station fields the handshake reads; a save that names other fields only (a boot, a
# heartbeat interval) leaves the cached entry right.
_HANDSHAKE_FIELDS = {"identity", "lax_validation", "registration_status", "security_profile"}


def _on_station_change(sender, instance, update_fields=None, **kwargs) -> None:
    if update_fields is not None and sender.__name__ == "Station":
        if not _HANDSHAKE_FIELDS.intersection(update_fields):
            return
    identity_changed(getattr(instance, "identity", None))


@functools.cache
def _publisher():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)


def _on_settings_change(sender, instance, **kwargs) -> None:
    identity_changed(None)


def connect_signals() -> None:
    """Called from ``OcppConfig.ready``: writes anywhere (admin, API, workers) evict."""
    from django.db.models.signals import post_delete, post_save

    from apps.stations.models import Station, StationSecuritySettings
    from apps.tenants.models import StationIdentity

    for model in (Station, StationIdentity):
        post_save.connect(_on_station_change, sender=model, dispatch_uid=f"ocpp-cache-{model}")
        post_delete.connect(_on_station_change, sender=model, dispatch_uid=f"ocpp-cache-d{model}")
    for signal in (post_save, post_delete):
        signal.connect(
            _on_settings_change, sender=StationSecuritySettings, dispatch_uid=f"ocpp-sec-{signal}"
        )


# --- The handshake -------------------------------------------------------------------------
def _refusal(*, identity: str, known: KnownStation, password_ok: bool, transport: Transport):
    """Why the station may not connect (an HTTP status), or ``None`` when it may."""
    from apps.stations.choices import SecurityProfile

    if known.security_profile == SecurityProfile.TLS_CLIENT_CERTIFICATE:
        if not transport.tls or transport.client_subject is None:
            logger.info("%s refused: profile 3 needs a proxy-verified certificate", identity)
            return 403
        if not certificate_matches(
            transport.client_subject, identity=identity, organization=known.cso_name
        ):
            logger.warning(
                "%s refused: certificate subject %r is not this station's",
                identity,
                transport.client_subject,
            )
            return 403
        return None
    if known.security_profile == SecurityProfile.TLS_BASIC and not transport.tls:
        logger.info("%s refused: profile 2 needs TLS (from a trusted proxy)", identity)
        return 403
    if not password_ok:
        return 401
    return None


def _load(*, identity: str) -> KnownStation | None:
    """The registry row and the station, from the database (public schema, then the tenant's)."""
    from apps.stations.choices import SecurityProfile
    from apps.stations.models import Station
    from apps.stations.selectors import station_cso_name
    from apps.tenants.models import StationIdentity

    loaded_at = time.monotonic()
    entry = (
        StationIdentity.objects.select_related("tenant")
        .filter(identity=identity)
        .only("password_hash", "pending_password_hash", "tenant")
        .first()
    )
    if entry is None:
        return None
    connection.set_tenant(entry.tenant)
    station = (
        Station.objects.filter(identity=identity)
        .values("pk", "lax_validation", "registration_status", "security_profile")
        .first()
    )
    if station is None:
        return None
    profile = station["security_profile"]
    return KnownStation(
        tenant=entry.tenant,
        station_id=station["pk"],
        lax=station["lax_validation"],
        registration_status=station["registration_status"],
        security_profile=profile,
        password_hash=entry.password_hash,
        pending_password_hash=entry.pending_password_hash,
        cso_name=station_cso_name() if profile == SecurityProfile.TLS_CLIENT_CERTIFICATE else "",
        loaded_at=loaded_at,
    )


def _load_many(*, items: list[str]) -> list[KnownStation | None]:
    """``_load`` for many identities at once (a reconnect storm after a restart finds the
    cache empty): one registry query, then one station query per tenant."""
    from apps.stations.choices import SecurityProfile
    from apps.stations.models import Station
    from apps.stations.selectors import station_cso_name
    from apps.tenants.models import StationIdentity

    loaded_at = time.monotonic()
    entries = {
        entry.identity: entry
        for entry in StationIdentity.objects.select_related("tenant")
        .filter(identity__in=set(items))
        .only("identity", "password_hash", "pending_password_hash", "tenant")
    }
    by_tenant: dict[str, list[Any]] = {}
    for entry in entries.values():
        by_tenant.setdefault(entry.tenant.schema_name, []).append(entry)
    known: dict[str, KnownStation] = {}
    for group in by_tenant.values():
        connection.set_tenant(group[0].tenant)
        rows = Station.objects.filter(identity__in=[entry.identity for entry in group]).values(
            "identity", "pk", "lax_validation", "registration_status", "security_profile"
        )
        cso_name: str | None = None
        for row in rows:
            entry = entries[row["identity"]]
            profile = row["security_profile"]
            if profile == SecurityProfile.TLS_CLIENT_CERTIFICATE and cso_name is None:
                cso_name = station_cso_name()
            known[row["identity"]] = KnownStation(
                tenant=entry.tenant,
                station_id=row["pk"],
                lax=row["lax_validation"],
                registration_status=row["registration_status"],
                security_profile=profile,
                password_hash=entry.password_hash,
                pending_password_hash=entry.pending_password_hash,
                cso_name=cso_name if profile == SecurityProfile.TLS_CLIENT_CERTIFICATE else "",
                loaded_at=loaded_at,
            )
    return [known.get(identity) for identity in items]


# Handshakes that find the cache empty load their identities together (a storm: hundreds).
_loader = GroupCommit(_load_many, max_batch=500, writers_per_tenant=2)


def _check_legacy_password(*, identity: str, password_hash: str, password: str) -> bool:
    """A password stored in a slow scheme: check it (on the pool, never on the event loop)
    and, when it matches, store it the fast way for next time."""
    from apps.tenants.models import station_password_matches
    from apps.tenants.services import station_identity_rehash

    if not station_password_matches(password_hash, password):
        return False
    station_identity_rehash(identity=identity, old_hash=password_hash, password=password)
    return True


def _resolve_unknown(*, identity: str, password: str | None, host: str | None) -> StationAccess:
    """An identity nobody registered: a tenant that accepts unknown stations (chosen by the
    host name the station dialled) registers it as pending; anyone else gets 404."""
    from apps.tenants.models import Domain

    hostname = (host or "").split(":")[0].lower()
    domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
    tenant = domain.tenant if domain else None
    if tenant is None or not tenant.accept_unknown_stations or tenant.schema_name == "public":
        return StationAccess(refusal=404)
    if not password:
        return StationAccess(refusal=401)
    return _register_pending(tenant, identity, password)


def _register_pending(tenant, identity: str, password: str) -> StationAccess:
    """Trust on first use: the station is kept Pending until an admin accepts it."""
    from apps.stations.services import station_register

    connection.set_tenant(tenant)
    with transaction.atomic():
        station = station_register(
            identity=identity,
            password=password,
            registration_status="Pending",
            legacy_password=True,
        )
    return StationAccess(tenant=tenant, station_id=station.pk, registration_status="Pending")


def _uses_password(known: KnownStation) -> bool:
    from apps.stations.choices import SecurityProfile

    return known.security_profile != SecurityProfile.TLS_CLIENT_CERTIFICATE


def _pending_match(known: KnownStation, password: str | None) -> bool:
    from apps.tenants.models import station_password_matches

    return station_password_matches(known.pending_password_hash, password)


def _promote_pending(*, identity: str, pending_hash: str) -> None:
    from apps.tenants.models import station_password_promote

    station_password_promote(identity=identity, pending_hash=pending_hash)


def _fast_match(known: KnownStation, password: str | None) -> bool | None:
    """The password check when it is cheap (our salted SHA-256); ``None`` for a slow scheme."""
    from apps.tenants.models import station_password_matches

    if known.password_hash and not known.password_hash.startswith("sha256$"):
        return None
    return station_password_matches(known.password_hash, password)


async def resolve_station(
    *,
    identity: str,
    authorization: str | None,
    host: str | None,
    peer: str | None = None,
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> StationAccess:
    """``peer`` is the TCP client address (ASGI ``scope["client"][0]``), ``headers`` the
    handshake's raw headers: what a trusted proxy says there decides profiles 2 and 3.

    A station seen recently costs no database round trip (``identities``)."""
    if not is_valid_identity(identity):
        return StationAccess(refusal=404)
    identities.listen()
    transport = transport_from(peer=peer, headers=headers)
    password = basic_password(authorization, identity)
    known = identities.get(identity)
    password_ok = _fast_match(known, password) if known is not None else None
    if known is None or (password_ok is False and _uses_password(known)):
        # Not cached, or the password may have changed since: ask the database.
        known = await _loader.submit(None, identity)
        if known is None:
            return await run_in_tenant(
                None, _resolve_unknown, identity=identity, password=password, host=host
            )
        identities.put(identity, known)
        password_ok = _fast_match(known, password)
    if password_ok is None:
        password_ok = password is not None and await run_in_tenant(
            None,
            _check_legacy_password,
            identity=identity,
            password_hash=known.password_hash,
            password=password,
        )
        if password_ok:
            identities.evict(identity)  # rehashed: the next handshake loads the new hash
    if not password_ok and _pending_match(known, password):
        # The station logs in with the password it was rotated to: it becomes the only one.
        await run_in_tenant(
            None,
            _promote_pending,
            identity=identity,
            pending_hash=known.pending_password_hash,
        )
        identities.evict(identity)
        password_ok = True
    refusal = _refusal(identity=identity, known=known, password_ok=password_ok, transport=transport)
    if refusal is not None:
        return StationAccess(refusal=refusal)
    return StationAccess(
        tenant=known.tenant,
        station_id=known.station_id,
        lax=known.lax,
        registration_status=known.registration_status,
    )
