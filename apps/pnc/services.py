"""Plug & Charge writes, and the answers the core asks for (registered in apps.py)."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.charging import services as charging
from apps.charging.choices import AuthorizationStatus
from apps.core.scoping import SYSTEM
from apps.ocpp import commands
from apps.ocpp import payloads as ocpp_payloads
from apps.ocpp import services as ocpp_services
from apps.stations.models import Station

from . import pki
from .models import (
    CertificateAuthority,
    CertificateType,
    InstalledCertificate,
    OcspResponse,
    PncSettings,
    SignStatus,
    StationCertificate,
    TrustedRoot,
)

logger = logging.getLogger(__name__)
REQUESTER = commands.Requester(actor=SYSTEM, source="system")
TRIGGER_FOR = {
    CertificateType.STATION: "SignChargingStationCertificate",
    CertificateType.V2G: "SignV2GCertificate",
}


def _days(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


# --- The tenant's CA -------------------------------------------------------------------------


@transaction.atomic
def ca_get_or_create() -> CertificateAuthority:
    """The tenant's CA; created (EC P-256, 10 years) on first need."""
    ca = CertificateAuthority.objects.select_for_update().first()
    if ca is not None:
        return ca
    schema = connection.schema_name
    new = pki.ca_create(
        name=f"chargegrid {schema} CA", password=pki.key_password(schema), now=timezone.now()
    )
    return CertificateAuthority.objects.create(
        name=f"chargegrid {schema} CA",
        certificate_pem=new.certificate_pem,
        key_pem_encrypted=new.key_pem_encrypted,
        not_after=new.not_after,
    )


def pnc_settings() -> PncSettings:
    return PncSettings.objects.first() or PncSettings.objects.create()


# --- A02/A03: SignCertificate → CertificateSigned ---------------------------------------------


def certificate_sign(
    *, station_id: int, csr: str, certificate_type: str
) -> ocpp_services.CertificateAnswer:
    """Check and sign the CSR at once (the certificate is stored as ``signed``), answer
    Accepted, and send CertificateSigned once the answer is out."""
    if certificate_type not in CertificateType.values:
        return ocpp_services.CertificateAnswer("Rejected")
    station = Station.objects.get(pk=station_id)
    expected_cn = station.identity if certificate_type == CertificateType.STATION else None
    try:
        request = pki.csr_check(csr, common_name=expected_cn)
    except pki.CsrError as error:
        logger.info("pnc: CSR of station %s refused: %s", station.identity, error)
        return ocpp_services.CertificateAnswer("Rejected")
    ca = ca_get_or_create()
    certificate = pki.csr_sign(
        request,
        ca_certificate_pem=ca.certificate_pem,
        ca_key_pem_encrypted=ca.key_pem_encrypted,
        password=pki.key_password(connection.schema_name),
        now=timezone.now(),
        days=_days("PNC_STATION_CERT_DAYS", 365),
    )
    record = StationCertificate.objects.create(
        station=station,
        certificate_type=certificate_type,
        serial_number=format(certificate.serial_number, "x"),
        subject=certificate.subject.rfc4514_string()[:500],
        certificate_pem=pki.pem(certificate),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
    )
    return ocpp_services.CertificateAnswer(
        "Accepted", follow_up=lambda: certificate_deliver(certificate_id=record.pk)
    )


def certificate_deliver(*, certificate_id: int) -> str:
    """CertificateSigned through the command service; the station's word is recorded."""
    record = StationCertificate.objects.select_related("station").get(pk=certificate_id)
    reply = commands.station_certificate_signed(
        requester=REQUESTER,
        station=record.station,
        certificate_chain=record.certificate_pem,
        certificate_type=record.certificate_type,
    )
    if reply.error is not None:
        record.status = SignStatus.FAILED
    else:
        record.status = SignStatus.ACCEPTED if reply.status == "Accepted" else SignStatus.REJECTED
    record.save(update_fields=["status"])
    return record.status


def renew_due(*, now: dt.datetime | None = None) -> int:
    """Renewal: the newest installed certificate of each type of each station, expiring
    within PNC_RENEW_BEFORE_DAYS and not yet asked about today: TriggerMessage
    Sign…Certificate (the station then sends a new SignCertificate)."""
    now = now or timezone.now()
    horizon = now + dt.timedelta(days=_days("PNC_RENEW_BEFORE_DAYS", 30))
    newest: dict[tuple[int, str], StationCertificate] = {}
    for record in StationCertificate.objects.filter(status=SignStatus.ACCEPTED).select_related(
        "station"
    ):
        key = (record.station_id, record.certificate_type)
        if key not in newest or record.created_at > newest[key].created_at:
            newest[key] = record
    asked = 0
    for record in newest.values():
        if record.not_after > horizon:
            continue
        if record.renewal_requested_at and record.renewal_requested_at > now - dt.timedelta(days=1):
            continue
        if not record.station.is_online or record.station.ocpp_version != "2.0.1":
            continue
        reply = commands.station_trigger_message(
            requester=REQUESTER,
            station=record.station,
            message=TRIGGER_FOR[record.certificate_type],
        )
        if reply.ok:
            record.renewal_requested_at = now
            record.save(update_fields=["renewal_requested_at"])
            asked += 1
    return asked


# --- Trusted eMobility roots and OCSP responses ------------------------------------------------


def trusted_root_add(*, name: str, certificate_pem: str) -> TrustedRoot:
    """A root certificate (PEM) that must be a CA; the same root twice is refused."""
    try:
        certificates = pki.load_chain(certificate_pem)
    except ValueError as error:
        raise ValueError("not a PEM certificate") from error
    if len(certificates) != 1:
        raise ValueError("exactly one certificate expected")
    certificate = certificates[0]
    try:
        ca = certificate.extensions.get_extension_for_class(pki.x509.BasicConstraints).value.ca
    except pki.x509.ExtensionNotFound:
        ca = False
    if not ca:
        raise ValueError("the certificate is not a CA")
    fingerprint = pki.fingerprint(certificate)
    if TrustedRoot.objects.filter(fingerprint=fingerprint).exists():
        raise ValueError("this root is already trusted")
    return TrustedRoot.objects.create(
        name=name or pki.common_name(certificate),
        certificate_pem=pki.pem(certificate),
        subject=certificate.subject.rfc4514_string()[:500],
        fingerprint=fingerprint,
        not_after=certificate.not_valid_after_utc,
    )


def trusted_root_delete(*, root: TrustedRoot) -> None:
    root.delete()


def ocsp_response_store(*, der: bytes) -> OcspResponse:
    """Cache an OCSP response (as fetched by the operator or a responder sync): the newest
    one for a certificate replaces the older."""
    parsed = pki.ocsp_parse(der)
    record, _ = OcspResponse.objects.update_or_create(
        hash_algorithm=parsed.hash_algorithm,
        issuer_name_hash=parsed.issuer_name_hash,
        issuer_key_hash=parsed.issuer_key_hash,
        serial_number=pki.normal_hex(parsed.serial_number),
        defaults={
            "cert_status": parsed.cert_status,
            "response_der": der,
            "this_update": parsed.this_update,
            "next_update": parsed.next_update,
        },
    )
    return record


def _cached_ocsp(data: dict[str, Any]) -> OcspResponse | None:
    return OcspResponse.objects.filter(
        hash_algorithm=str(data.get("hash_algorithm", "")).upper(),
        issuer_name_hash=str(data.get("issuer_name_hash", "")).lower(),
        issuer_key_hash=str(data.get("issuer_key_hash", "")).lower(),
        serial_number=pki.normal_hex(str(data.get("serial_number", ""))),
    ).first()


def _fresh(record: OcspResponse | None, *, now: dt.datetime) -> bool:
    """Cached until its nextUpdate; one without nextUpdate for PNC_OCSP_DEFAULT_TTL seconds
    (default an hour) after its thisUpdate."""
    if record is None:
        return False
    if record.next_update is not None:
        return record.next_update >= now
    ttl = dt.timedelta(seconds=int(getattr(settings, "PNC_OCSP_DEFAULT_TTL", 3600)))
    return record.this_update + ttl >= now


@dataclass(frozen=True)
class OcspLookup:
    """One certificate's status: ``record`` the response held (maybe stale when the responder
    did not answer); ``fresh`` whether it is current."""

    record: OcspResponse | None
    fresh: bool

    @property
    def status(self) -> str:
        return self.record.cert_status if self.record is not None else "UNKNOWN"


def _responder_allowed(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


def ocsp_lookup(
    entry: dict[str, Any],
    *,
    issuer: pki.x509.Certificate | None = None,
    url: str = "",
    now: dt.datetime | None = None,
) -> OcspLookup:
    """The certificate's OCSP status: from the cache while fresh (nextUpdate), else asked of
    the tenant's configured responder or, failing that, the one the certificate (or the
    station's request) names; the answer is checked (``pki.ocsp_response_check``) and cached.
    The responder down or its answer refused: the stale cached response, if any."""
    now = now or timezone.now()
    record = _cached_ocsp(entry)
    if _fresh(record, now=now):
        return OcspLookup(record, True)
    config = pnc_settings()
    url = config.ocsp_responder_url or url
    if not url or not _responder_allowed(url):
        return OcspLookup(record, False)
    try:
        request_der = pki.ocsp_request_der(entry)
        response = requests.post(
            url,
            data=request_der,
            headers={"Content-Type": "application/ocsp-request"},
            timeout=config.ocsp_timeout_seconds,
        )
        response.raise_for_status()
        pki.ocsp_response_check(
            response.content, entry, issuer=issuer, roots=_ocsp_roots(), now=now
        )
    except (requests.RequestException, ValueError, KeyError) as error:
        logger.warning("pnc: OCSP responder %s gave no usable answer: %s", url, error)
        return OcspLookup(record, False)
    return OcspLookup(ocsp_response_store(der=response.content), True)


def _ocsp_roots() -> list[pki.x509.Certificate]:
    """Who may have issued a certificate asked about by hash alone: the trusted eMobility
    roots and the tenant's own CA (station V2G certificates)."""
    roots = [pki.load_chain(r.certificate_pem)[0] for r in TrustedRoot.objects.all()]
    ca = CertificateAuthority.objects.first()
    if ca is not None:
        roots.append(pki.load_chain(ca.certificate_pem)[0])
    return roots


# --- C07: Authorize with a contract certificate ------------------------------------------------


def _refused(status: str) -> ocpp_services.ContractAuthorization:
    return ocpp_services.ContractAuthorization(
        charging.AuthorizationDecision(AuthorizationStatus.INVALID), certificate_status=status
    )


@dataclass(frozen=True)
class _Asked:
    entry: dict[str, Any]
    issuer: pki.x509.Certificate | None = None
    url: str = ""


def _ocsp_status(asked: list[_Asked], *, now: dt.datetime) -> str:
    """Revoked if any certificate of the chain is (a stale REVOKED too: revocation is for
    good); unknown (NoCertificateAvailable) when a current status is missing (no responder,
    responder down, answer refused) and the tenant does not accept that; else Accepted."""
    unknown = False
    for item in asked:
        lookup = ocsp_lookup(item.entry, issuer=item.issuer, url=item.url, now=now)
        if lookup.status == "REVOKED":
            return pki.REVOKED
        if not lookup.fresh or lookup.status != "GOOD":
            unknown = True
    if unknown and not pnc_settings().accept_unknown_ocsp:
        return pki.NO_CERTIFICATE
    return pki.ACCEPTED


def _hash_entry(data: dict[str, Any]) -> _Asked:
    """An iso15118CertificateHashData / OCSPRequestData entry (snake_case or camelCase)."""

    def get(snake: str, camel: str) -> str:
        return str(data.get(snake, data.get(camel, "")) or "")

    entry = {
        "hash_algorithm": get("hash_algorithm", "hashAlgorithm"),
        "issuer_name_hash": get("issuer_name_hash", "issuerNameHash"),
        "issuer_key_hash": get("issuer_key_hash", "issuerKeyHash"),
        "serial_number": get("serial_number", "serialNumber"),
    }
    return _Asked(entry, url=get("responder_url", "responderURL"))


def contract_authorize(
    *,
    station_id: int,
    uid: str,
    token_type: str,
    certificate: str | None,
    hash_data: list[dict[str, Any]] | None,
) -> ocpp_services.ContractAuthorization:
    now = timezone.now()
    if certificate:
        try:
            chain = pki.load_chain(certificate)
        except ValueError:
            return _refused(pki.CHAIN_ERROR)
        roots = [pki.load_chain(r.certificate_pem)[0] for r in TrustedRoot.objects.all()]
        status = pki.chain_verify(chain, roots, now=now)
        if status != pki.ACCEPTED:
            return _refused(status)
        emaid = pki.common_name(chain[0])
        if _emaid(emaid) != _emaid(uid):
            return _refused(pki.CHAIN_ERROR)
        asked = [
            _Asked(pki.cert_id(child, parent), parent, pki.ocsp_responder_url(child))
            for child, parent in zip(chain, chain[1:], strict=False)
        ]
        issuer = pki.issuing_root(chain[-1], roots)
        if issuer is not None and pki.fingerprint(issuer) != pki.fingerprint(chain[-1]):
            asked.append(
                _Asked(pki.cert_id(chain[-1], issuer), issuer, pki.ocsp_responder_url(chain[-1]))
            )
        status = _ocsp_status(asked, now=now)
    else:
        status = _ocsp_status([_hash_entry(entry) for entry in hash_data or []], now=now)
    if status != pki.ACCEPTED:
        return _refused(status)
    decision = charging.authorize(uid=uid, token_type=token_type, station_id=station_id)
    return ocpp_services.ContractAuthorization(decision, certificate_status=pki.ACCEPTED)


def _emaid(value: str) -> str:
    """eMAIDs compare without their optional separators and case (ISO 15118-2 Annex H)."""
    return value.replace("-", "").replace("*", "").upper()


# --- M06: GetCertificateStatus ----------------------------------------------------------------


def certificate_status(*, station_id: int, ocsp_request: dict[str, Any]) -> dict[str, Any]:
    """The cached response while fresh, else asked of the responder (``ocsp_lookup``):
    Accepted with the DER response in base64; Failed when no current response can be had
    (the station keeps its own copy until it expires, as M06 says)."""
    asked = _hash_entry(ocsp_request)
    lookup = ocsp_lookup(asked.entry, url=asked.url)
    record = lookup.record
    if record is None or not lookup.fresh:
        return {"status": "Failed"}
    return {
        "status": "Accepted",
        "ocsp_result": base64.b64encode(bytes(record.response_der)).decode(),
    }


# --- M01/M02: Get15118EVCertificate -----------------------------------------------------------


def ev_certificate(
    *, station_id: int, schema_version: str, action: str, exi_request: str, extra: dict
) -> dict[str, Any] | None:
    """Pass the EXI request to the tenant's contract certificate pool (HTTP POST, JSON) and
    hand back its EXI answer.  No pool configured: abstain (the core answers Failed);
    unreachable, slow or nonsense: Failed, as the spec says."""
    config = pnc_settings()
    if not config.pool_url:
        return None
    body = {
        "iso15118SchemaVersion": schema_version,
        "action": action,
        "exiRequest": exi_request,
    }
    if extra.get("maximum_contract_certificate_chains") is not None:
        body["maximumContractCertificateChains"] = extra["maximum_contract_certificate_chains"]
    try:
        with _pool_verify(config) as verify:
            response = requests.post(
                config.pool_url, json=body, timeout=config.pool_timeout_seconds, verify=verify
            )
        response.raise_for_status()
        answer = response.json()
        status, exi = answer["status"], answer["exiResponse"]
    except (requests.RequestException, ValueError, KeyError, TypeError) as error:
        logger.warning("pnc: contract certificate pool failed: %s", error)
        return {"status": "Failed", "exi_response": ""}
    if status not in ("Accepted", "Failed") or not isinstance(exi, str):
        return {"status": "Failed", "exi_response": ""}
    return {"status": status, "exi_response": exi}


@contextlib.contextmanager
def _pool_verify(config: PncSettings) -> Iterator[bool | str]:
    """The provider's HTTPS endpoint is checked against the tenant's CA certificates when it
    gave some, else the system's."""
    if not config.pool_ca_pem.strip():
        yield True
        return
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as bundle:
        bundle.write(config.pool_ca_pem)
        bundle.flush()
        yield bundle.name


# --- The provider / OCSP settings (portal) -----------------------------------------------------

SETTINGS_FIELDS = (
    "pool_url",
    "pool_timeout_seconds",
    "pool_ca_pem",
    "ocsp_responder_url",
    "ocsp_timeout_seconds",
    "accept_unknown_ocsp",
)


def pnc_settings_update(**changes: Any) -> PncSettings:
    """Change the tenant's provider / OCSP settings; CA certificates must be PEM certificates
    (ValueError otherwise)."""
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"not a Plug & Charge setting: {sorted(unknown)}")
    bundle = (changes.get("pool_ca_pem") or "").strip()
    if bundle:
        try:
            certificates = pki.load_chain(bundle)
        except ValueError as error:
            raise ValueError("not PEM certificates") from error
        changes["pool_ca_pem"] = "".join(pki.pem(c) for c in certificates)
    config = pnc_settings()
    for name, value in changes.items():
        setattr(config, name, value)
    config.save()
    return config


# --- M03-M05: certificates installed on stations -----------------------------------------------

MAX_INSTALL_LENGTH = 5500  # InstallCertificate's certificate, both versions


def installed_refresh(
    *, requester: commands.Requester, station: Station, certificate_types: list[str] | None = None
) -> commands.CommandReply:
    """GetInstalledCertificateIds; the station's answer replaces what is recorded for the
    types asked (all types when none).  NotFound is an answer too: none of that type."""
    reply = commands.station_installed_certificate_ids(
        requester=requester, station=station, certificate_types=certificate_types
    )
    if reply.error is None and reply.answered:
        _installed_record(station, reply.rows, certificate_types)
    return reply


@transaction.atomic
def _installed_record(
    station: Station, rows: list[dict[str, str]], certificate_types: list[str] | None
) -> None:
    held = InstalledCertificate.objects.filter(station=station)
    if certificate_types:
        held = held.filter(certificate_type__in=certificate_types)
    subjects = {row.serial_number: row.subject for row in held}
    held.delete()
    now = timezone.now()
    seen = set()
    for row in rows:
        key = tuple(row[k] for k in ("hash_algorithm", "issuer_name_hash", "issuer_key_hash"))
        key += (row["serial_number"],)
        if key in seen or not row["serial_number"]:
            continue
        seen.add(key)
        InstalledCertificate.objects.create(
            station=station,
            subject=subjects.get(row["serial_number"], ""),
            reported_at=now,
            **{k: row[k][:128] for k in row},
        )


def certificate_install(
    *,
    requester: commands.Requester,
    station: Station,
    certificate_type: str,
    certificate_pem: str,
) -> commands.CommandReply:
    """InstallCertificate of one CA certificate (PEM).  ValueError for input the station
    should never see: not PEM, several certificates, not a CA, too long, a type the
    station's version has no word for.  Accepted: recorded (self-signed roots from their
    own hash data, others from the station's GetInstalledCertificateIds)."""
    try:
        certificates = pki.load_chain(certificate_pem)
    except ValueError as error:
        raise ValueError("not a PEM certificate") from error
    if len(certificates) != 1:
        raise ValueError("exactly one certificate expected")
    certificate = certificates[0]
    if not _is_ca(certificate):
        raise ValueError("the certificate is not a CA")
    text = pki.pem(certificate)
    if len(text) > MAX_INSTALL_LENGTH:
        raise ValueError(f"the certificate is longer than {MAX_INSTALL_LENGTH} characters")
    try:
        reply = commands.station_certificate_install(
            requester=requester,
            station=station,
            certificate_type=certificate_type,
            certificate=text,
        )
    except ocpp_payloads.BadCertificateType as error:
        raise ValueError(f"{certificate_type} cannot be installed on this station") from error
    if reply.ok:
        subject = certificate.subject.rfc4514_string()[:500]
        if certificate.issuer == certificate.subject:
            InstalledCertificate.objects.update_or_create(
                station=station,
                **pki.cert_id(certificate, certificate),
                defaults={
                    "certificate_type": certificate_type,
                    "subject": subject,
                    "reported_at": timezone.now(),
                },
            )
        else:
            installed_refresh(requester=requester, station=station)
            InstalledCertificate.objects.filter(
                station=station, serial_number=format(certificate.serial_number, "x")
            ).update(subject=subject)
    return reply


def _is_ca(certificate: pki.x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(pki.x509.BasicConstraints).value.ca
    except pki.x509.ExtensionNotFound:
        return False


def certificate_delete(
    *, requester: commands.Requester, installed: InstalledCertificate
) -> commands.CommandReply:
    """DeleteCertificate; Accepted or NotFound (the station no longer holds it): the record
    goes, with the sub-CAs recorded under it."""
    reply = commands.station_certificate_delete(
        requester=requester, station=installed.station, hash_data=installed.hash_data()
    )
    if reply.error is None and reply.status in ("Accepted", "NotFound"):
        InstalledCertificate.objects.filter(
            station=installed.station, parent_serial_number=installed.serial_number
        ).delete()
        installed.delete()
    return reply
