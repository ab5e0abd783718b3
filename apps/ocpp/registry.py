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

import base64
import binascii
import functools
import ipaddress
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction

from .runtime import run_in_tenant

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


# --- The handshake -------------------------------------------------------------------------
def _refusal(
    profile: int, *, identity: str, entry, password: str | None, transport: Transport
) -> int | None:
    """Why the station may not connect (an HTTP status), or ``None`` when it may."""
    from apps.stations.choices import SecurityProfile
    from apps.stations.selectors import station_cso_name

    if profile == SecurityProfile.TLS_CLIENT_CERTIFICATE:
        if not transport.tls or transport.client_subject is None:
            logger.info("%s refused: profile 3 needs a proxy-verified certificate", identity)
            return 403
        if not certificate_matches(
            transport.client_subject, identity=identity, organization=station_cso_name()
        ):
            logger.warning(
                "%s refused: certificate subject %r is not this station's",
                identity,
                transport.client_subject,
            )
            return 403
        return None
    if profile == SecurityProfile.TLS_BASIC and not transport.tls:
        logger.info("%s refused: profile 2 needs TLS (from a trusted proxy)", identity)
        return 403
    if not entry.check_password(password):
        return 401
    return None


def _resolve(
    identity: str, authorization: str | None, host: str | None, transport: Transport
) -> StationAccess:
    from apps.stations.models import Station
    from apps.tenants.models import Domain, StationIdentity

    connection.set_schema_to_public()
    if not identity or len(identity) > 48:
        return StationAccess(refusal=404)
    password = basic_password(authorization, identity)
    entry = StationIdentity.objects.select_related("tenant").filter(identity=identity).first()
    if entry is None:
        hostname = (host or "").split(":")[0].lower()
        domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
        tenant = domain.tenant if domain else None
        if tenant is None or not tenant.accept_unknown_stations or tenant.schema_name == "public":
            return StationAccess(refusal=404)
        if not password:
            return StationAccess(refusal=401)
        return _register_pending(tenant, identity, password)
    tenant = entry.tenant
    connection.set_tenant(tenant)
    station = (
        Station.objects.filter(identity=identity)
        .values("pk", "lax_validation", "registration_status", "security_profile")
        .first()
    )
    if station is None:
        return StationAccess(refusal=404)
    refusal = _refusal(
        station["security_profile"],
        identity=identity,
        entry=entry,
        password=password,
        transport=transport,
    )
    if refusal is not None:
        return StationAccess(refusal=refusal)
    return StationAccess(
        tenant=tenant,
        station_id=station["pk"],
        lax=station["lax_validation"],
        registration_status=station["registration_status"],
    )


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


async def resolve_station(
    *,
    identity: str,
    authorization: str | None,
    host: str | None,
    peer: str | None = None,
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> StationAccess:
    """``peer`` is the TCP client address (ASGI ``scope["client"][0]``), ``headers`` the
    handshake's raw headers: what a trusted proxy says there decides profiles 2 and 3."""
    transport = transport_from(peer=peer, headers=headers)
    return await run_in_tenant(
        None,
        _resolve,
        identity=identity,
        authorization=authorization,
        host=host,
        transport=transport,
    )
