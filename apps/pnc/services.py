"""Plug & Charge writes, and the answers the core asks for (registered in apps.py)."""

from __future__ import annotations

import base64
import datetime as dt
import logging
from typing import Any

import requests
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.charging import services as charging
from apps.charging.choices import AuthorizationStatus
from apps.core.scoping import SYSTEM
from apps.ocpp import commands
from apps.ocpp import services as ocpp_services
from apps.stations.models import Station

from . import pki
from .models import (
    CertificateAuthority,
    CertificateType,
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


def _cached_ocsp(data: dict[str, Any], *, now: dt.datetime) -> OcspResponse | None:
    record = OcspResponse.objects.filter(
        hash_algorithm=str(data.get("hash_algorithm", "")).upper(),
        issuer_name_hash=str(data.get("issuer_name_hash", "")).lower(),
        issuer_key_hash=str(data.get("issuer_key_hash", "")).lower(),
        serial_number=pki.normal_hex(str(data.get("serial_number", ""))),
    ).first()
    if record is None or (record.next_update and record.next_update < now):
        return None
    return record


# --- C07: Authorize with a contract certificate ------------------------------------------------


def _refused(status: str) -> ocpp_services.ContractAuthorization:
    return ocpp_services.ContractAuthorization(
        charging.AuthorizationDecision(AuthorizationStatus.INVALID), certificate_status=status
    )


def _ocsp_status(entries: list[dict[str, Any]], *, now: dt.datetime) -> str:
    """Revoked if any certificate of the chain is; unknown (NoCertificateAvailable) when a
    status is missing and the tenant does not accept that; else Accepted."""
    unknown = False
    for entry in entries:
        record = _cached_ocsp(entry, now=now)
        if record is None or record.cert_status == "UNKNOWN":
            unknown = True
        elif record.cert_status == "REVOKED":
            return pki.REVOKED
    if unknown and not pnc_settings().accept_unknown_ocsp:
        return pki.NO_CERTIFICATE
    return pki.ACCEPTED


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
        entries = [
            pki.cert_id(child, parent) for child, parent in zip(chain, chain[1:], strict=False)
        ]
        issuer = next((r for r in roots if r.subject == chain[-1].issuer), None)
        if issuer is not None:
            entries.append(pki.cert_id(chain[-1], issuer))
        status = _ocsp_status(entries, now=now)
    else:
        status = _ocsp_status(hash_data or [], now=now)
    if status != pki.ACCEPTED:
        return _refused(status)
    decision = charging.authorize(uid=uid, token_type=token_type, station_id=station_id)
    return ocpp_services.ContractAuthorization(decision, certificate_status=pki.ACCEPTED)


def _emaid(value: str) -> str:
    """eMAIDs compare without their optional separators and case (ISO 15118-2 Annex H)."""
    return value.replace("-", "").replace("*", "").upper()


# --- M06: GetCertificateStatus ----------------------------------------------------------------


def certificate_status(*, station_id: int, ocsp_request: dict[str, Any]) -> dict[str, Any]:
    """From the cache only (no outbound OCSP in the request path): Accepted with the DER
    response in base64, or Failed when none is held or it is past its nextUpdate."""
    record = _cached_ocsp(ocsp_request, now=timezone.now())
    if record is None:
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
        response = requests.post(config.pool_url, json=body, timeout=config.pool_timeout_seconds)
        response.raise_for_status()
        answer = response.json()
        status, exi = answer["status"], answer["exiResponse"]
    except (requests.RequestException, ValueError, KeyError, TypeError) as error:
        logger.warning("pnc: contract certificate pool failed: %s", error)
        return {"status": "Failed", "exi_response": ""}
    if status not in ("Accepted", "Failed") or not isinstance(exi, str):
        return {"status": "Failed", "exi_response": ""}
    return {"status": status, "exi_response": exi}
