"""Writes of the roaming feature: partners and the credentials handshake (both ways), tokens
pushed by partners, and the outbox of pushes to partners.

The handshake (OCPI 2.2.1 §7.2): a party that registers GETs the other's versions and version
details with the token it was given (token A), then POSTs its own credentials (with a new token
B for the other to call it); the answer holds the other's credentials (a new token C that
replaces A).  Either side may start; we keep, per partner, the token they present to us
(``incoming_token``) and the token we present to them (``outgoing_token``).

A push is attempted by the Celery task ``roaming.push_deliver``; an attempt first *claims* the
row with a conditional update that must touch exactly one row, so a task that runs twice never
sends twice.  Failures are retried with back-off (base × 4^(n-1)): a partner that is down gets
its pushes later, in the order they were made, and never blocks charging.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from . import client, protocol, queue, selectors, shapes211
from .choices import PartnerStatus, PushStatus
from .models import Partner, Push, RemoteToken, RoamingProfile

MAX_ATTEMPTS = 8
SENDING_LEASE = dt.timedelta(minutes=5)
OUR_MODULES_221 = (
    ("credentials", "SENDER"),
    ("credentials", "RECEIVER"),
    ("locations", "SENDER"),
    ("tariffs", "SENDER"),
    ("tokens", "RECEIVER"),
)
OUR_MODULES_211 = ("credentials", "locations", "tariffs", "tokens")


class HandshakeError(Exception):
    pass


def retry_delay(attempt: int) -> dt.timedelta:
    base = float(getattr(settings, "ROAMING_RETRY_BASE_SECONDS", 10))
    return dt.timedelta(seconds=base * 4 ** (attempt - 1))


def _new_token() -> str:
    return secrets.token_urlsafe(32)


# --- This tenant as a party ------------------------------------------------------------------
def profile_get() -> RoamingProfile:
    profile = RoamingProfile.objects.filter(singleton=True).first()
    if profile is None:
        tenant = connection.tenant
        slug = "".join(ch for ch in tenant.slug.upper() if ch.isalnum())
        profile = RoamingProfile.objects.create(
            party_id=(slug + "XXX")[:3], business_name=tenant.name[:100]
        )
    return profile


def versions_url() -> str:
    base = getattr(settings, "ROAMING_PUBLIC_BASE_URL", "") or (
        f"{settings.PORTAL_URL_SCHEME}://{connection.tenant.get_primary_domain().domain}"
    )
    return f"{base.rstrip('/')}/ocpi/versions"


def our_credentials(token: str, version: str) -> dict[str, Any]:
    profile = profile_get()
    business = {"name": profile.business_name}
    if version == protocol.V211:
        return {
            "token": token,
            "url": versions_url(),
            "business_details": business,
            "country_code": profile.country_code,
            "party_id": profile.party_id,
        }
    return {
        "token": token,
        "url": versions_url(),
        "roles": [
            {
                "role": "CPO",
                "business_details": business,
                "country_code": profile.country_code,
                "party_id": profile.party_id,
            }
        ],
    }


# --- Partners --------------------------------------------------------------------------------
@transaction.atomic
def partner_invite(*, name: str) -> Partner:
    """A partner that will register with us: we issue token A and give it with our URL."""
    partner = Partner(name=name, incoming_token=_new_token(), status=PartnerStatus.INVITED)
    partner.full_clean()
    partner.save()
    return partner


def _their_identity(credentials: dict[str, Any], version: str) -> tuple[str, str, list[str]]:
    if version == protocol.V211 or "roles" not in credentials:
        return credentials["country_code"], credentials["party_id"], ["EMSP"]
    roles = credentials.get("roles") or []
    if not roles:
        raise HandshakeError("The credentials name no role.")
    # A hub or an eMSP with several roles: the hub's (or the first) names the party.
    main = next((r for r in roles if r.get("role") == "HUB"), roles[0])
    return main["country_code"], main["party_id"], sorted({r["role"] for r in roles})


def _fetch_endpoints(url: str, token: str) -> tuple[str, list[dict[str, Any]]]:
    """GET their versions, pick the best one we share, GET its details: (version, endpoints)."""
    answer = client.call("GET", url, token=token, version=protocol.V221)
    if answer.http_status == 401:
        # A 2.1.1-only party reads the token as it is, not base64-encoded: ask again so.
        answer = client.call("GET", url, token=token, version=protocol.V211)
    if not answer.ok:
        raise client.OcpiError(
            f"GET {url}: HTTP {answer.http_status}, OCPI {answer.status_code}",
            http_status=answer.http_status,
            ocpi_status=answer.status_code,
        )
    versions = answer.data or []
    offered = {entry["version"]: entry["url"] for entry in versions}
    for version in protocol.SUPPORTED_VERSIONS:
        if version in offered:
            details = client.call_ok("GET", offered[version], token=token, version=version).data
            return version, list(details.get("endpoints") or [])
    raise HandshakeError(f"No common OCPI version (they offer {sorted(offered)}).")


def _apply_credentials(
    partner: Partner, credentials: dict[str, Any], version: str, endpoints: list
) -> None:
    country_code, party_id, roles = _their_identity(credentials, version)
    partner.country_code = country_code
    partner.party_id = party_id
    partner.roles = roles
    partner.versions_url = credentials["url"]
    partner.outgoing_token = credentials["token"]
    partner.version = version
    partner.endpoints = endpoints
    partner.status = PartnerStatus.CONNECTED
    partner.connected_at = timezone.now()
    partner.last_error = ""


def credentials_received(
    *, partner: Partner, credentials: dict[str, Any], update: bool = False
) -> dict[str, Any]:
    """They registered (POST) or updated (PUT) with us.  We fetch their endpoints with the
    token they sent, switch them to a new token C and answer our credentials."""
    if update != (partner.status == PartnerStatus.CONNECTED):
        raise HandshakeError(
            "Already registered: use PUT." if not update else "Not registered: use POST."
        )
    if not credentials.get("token") or not credentials.get("url"):
        raise HandshakeError("The credentials need a token and a url.")
    version, endpoints = _fetch_endpoints(credentials["url"], credentials["token"])
    with transaction.atomic():
        partner = Partner.objects.select_for_update().get(pk=partner.pk)
        _apply_credentials(partner, credentials, version, endpoints)
        partner.incoming_token = _new_token()
        partner.full_clean()
        partner.save()
    return our_credentials(partner.incoming_token, version)


@transaction.atomic
def credentials_deleted(*, partner: Partner) -> None:
    """They unregistered: neither token works any more (a new invitation is needed)."""
    partner.status = PartnerStatus.UNREGISTERED
    partner.outgoing_token = ""
    partner.incoming_token = "revoked-" + _new_token()
    partner.save(update_fields=["status", "outgoing_token", "incoming_token"])


def partner_register(*, name: str, versions_url: str, token: str) -> Partner:
    """We register with a partner from the URL and token A they gave us."""
    version, endpoints = _fetch_endpoints(versions_url, token)
    credentials_url = next(
        (
            e["url"]
            for e in endpoints
            if e.get("identifier") == "credentials" and e.get("role", "RECEIVER") == "RECEIVER"
        ),
        None,
    )
    if credentials_url is None:
        raise HandshakeError("They have no credentials endpoint.")
    token_b = _new_token()
    # Saved first so that their GET of our versions with token B, during the POST, is ours.
    partner = Partner.objects.create(
        name=name, incoming_token=token_b, versions_url=versions_url, status=PartnerStatus.INVITED
    )
    try:
        answer = client.call_ok(
            "POST",
            credentials_url,
            token=token,
            version=version,
            body=our_credentials(token_b, version),
        )
    except client.OcpiError as failure:
        partner.last_error = str(failure)[:500]
        partner.save(update_fields=["last_error"])
        raise HandshakeError(str(failure)) from failure
    with transaction.atomic():
        _apply_credentials(partner, answer.data, version, endpoints)
        partner.full_clean()
        partner.save()
    return partner


def partner_rotate(*, partner: Partner) -> Partner:
    """We give the partner a new token to call us with (PUT credentials on their side)."""
    url = partner.endpoint("credentials")
    if url is None or partner.status != PartnerStatus.CONNECTED:
        raise HandshakeError("The partner is not connected.")
    new_token = _new_token()
    previous = partner.incoming_token
    Partner.objects.filter(pk=partner.pk).update(incoming_token=new_token)
    try:
        answer = client.call_ok(
            "PUT",
            url,
            token=partner.outgoing_token,
            version=partner.version,
            body=our_credentials(new_token, partner.version),
        )
    except client.OcpiError:
        Partner.objects.filter(pk=partner.pk).update(incoming_token=previous)
        raise
    partner.refresh_from_db()
    _apply_credentials(partner, answer.data, partner.version, partner.endpoints)
    partner.save()
    return partner


def partner_unregister(*, partner: Partner) -> None:
    """We end the connection: DELETE our credentials on their side, then forget their token."""
    url = partner.endpoint("credentials")
    if url and partner.status == PartnerStatus.CONNECTED:
        try:
            client.call("DELETE", url, token=partner.outgoing_token, version=partner.version)
        except client.OcpiError:
            pass  # they may be gone for good; we stop either way
    credentials_deleted(partner=partner)


# --- Tokens pushed or pulled from partners ---------------------------------------------------
TOKEN_FIELDS = {
    "contract_id": "contract_id",
    "visual_number": "visual_number",
    "issuer": "issuer",
    "group_id": "group_id",
    "valid": "valid",
    "whitelist": "whitelist",
    "language": "language",
}


@transaction.atomic
def token_store(
    *,
    partner: Partner,
    data: dict[str, Any],
    country_code: str,
    party_id: str,
    uid: str,
    token_type: str = "RFID",
    partial: bool = False,
) -> RemoteToken:
    """PUT (whole object) or PATCH (some fields) of a partner's token."""
    token = RemoteToken.objects.filter(
        partner=partner,
        country_code=country_code,
        party_id=party_id,
        uid=uid,
        token_type=token_type,
    ).first()
    if token is None:
        if partial:
            raise RemoteToken.DoesNotExist(uid)
        token = RemoteToken(
            partner=partner,
            country_code=country_code,
            party_id=party_id,
            uid=uid,
            token_type=token_type,
        )
    if "whitelist" not in data and "allow_whitelist" in data:  # 2.1.1
        data = {**data, "whitelist": data["allow_whitelist"]}
    for key, field in TOKEN_FIELDS.items():
        if key in data:
            setattr(token, field, data[key] if data[key] is not None else "")
    if "contract_id" not in data and "auth_id" in data:  # 2.1.1
        token.contract_id = data["auth_id"]
    token.last_updated = (
        protocol.parse_timestamp(data["last_updated"])
        if data.get("last_updated")
        else timezone.now()
    )
    token.data = {**(token.data or {}), **data}
    token.full_clean()
    token.save()
    return token


# --- Tokens pulled from partners (their tokens SENDER endpoint) --------------------------------
PULL_PAGE_LIMIT = 500
PULL_MAX_PAGES = 2000


class PullError(Exception):
    pass


def _next_link(headers: dict[str, str]) -> str | None:
    """The URL of a ``Link: <url>; rel="next"`` header, if any."""
    value = next((v for k, v in headers.items() if k.lower() == "link"), "")
    for part in value.split(","):
        url, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", "") or "rel=next" in params.replace(" ", ""):
            return url.strip().strip("<>")
    return None


def tokens_pull(*, partner: Partner, full: bool = False) -> int:
    """GET the partner's tokens (OCPI 2.2.1 §12.2.1, CPO pulls from the eMSP's SENDER
    endpoint): every page, following their ``Link`` headers, and only what changed since the
    last complete pull (``date_from``) unless ``full``.  Each token is stored as a push would
    store it.  Returns how many were stored; the pull time advances only when every page was
    read (a failure part-way is retried from the same point)."""
    url = partner.endpoint("tokens", "SENDER")
    if url is None or partner.status != PartnerStatus.CONNECTED:
        raise PullError("The partner has no tokens endpoint to pull from.")
    started = timezone.now()
    query = {"offset": 0, "limit": PULL_PAGE_LIMIT}
    if partner.tokens_pulled_at and not full:
        query["date_from"] = protocol.timestamp(partner.tokens_pulled_at)
    page_url: str | None = f"{url}?{urlencode(query)}"
    stored = pages = skipped = 0
    try:
        while page_url is not None:
            pages += 1
            if pages > PULL_MAX_PAGES:
                raise PullError("Too many pages.")
            answer = client.call_ok(
                "GET", page_url, token=partner.outgoing_token, version=partner.version
            )
            if not isinstance(answer.data, list):
                raise PullError("The tokens page is not a list.")
            for data in answer.data:
                try:
                    token_store(
                        partner=partner,
                        data=data,
                        country_code=data.get("country_code") or partner.country_code,
                        party_id=data.get("party_id") or partner.party_id,
                        uid=data["uid"],
                        token_type=data.get("type") or "RFID",
                    )
                    stored += 1
                except (ValidationError, ValueError, KeyError, TypeError, AttributeError):
                    skipped += 1  # one bad token does not stop the others
            page_url = _next_link(answer.headers) if answer.data else None
    except (client.OcpiError, PullError) as failure:
        Partner.objects.filter(pk=partner.pk).update(last_error=f"Tokens pull: {failure}"[:500])
        raise PullError(str(failure)) from failure
    error = f"Tokens pull: {skipped} invalid token(s) skipped." if skipped else ""
    Partner.objects.filter(pk=partner.pk).update(tokens_pulled_at=started, last_error=error)
    partner.tokens_pulled_at, partner.last_error = started, error
    return stored


def tokens_pull_all() -> int:
    """The periodic pull, for every connected partner that offers its tokens."""
    count = 0
    for partner in selectors.connected_partners_offering("tokens"):
        try:
            count += tokens_pull(partner=partner)
        except PullError:
            continue  # recorded on the partner; the next run tries again
    return count


# --- The outbox ------------------------------------------------------------------------------
_batch = threading.local()


def _send(entries: list[tuple[int, int]]) -> None:
    """One task per partner, its pushes in the order they were made."""
    by_partner: dict[int, list[int]] = {}
    for partner_id, push_id in entries:
        by_partner.setdefault(partner_id, []).append(push_id)
    for ids in by_partner.values():
        queue.push_deliver_batch(ids)


def _queue(pushes: list[Push]) -> None:
    """Queue pushes for sending once the transaction commits.  The pushes of one transaction
    (a batch of status changes, say) share one commit callback: one task per partner rather
    than one per push.  A callback that a rollback removed is not reused."""
    entries = [(push.partner_id, push.pk) for push in pushes]
    flush = getattr(_batch, "flush", None)
    if flush is not None and any(entry[1] is flush for entry in connection.run_on_commit):
        flush.entries.extend(entries)
        return

    def flush() -> None:
        _send(flush.entries)

    flush.entries = entries
    _batch.flush = flush
    transaction.on_commit(flush)


def route_for(partner: Partner, party: tuple[str, str] | None = None) -> tuple[str, str] | None:
    """The OCPI-to-* of a request to ``partner``: none unless it is a hub; to a hub, the party
    the message is for (a token's eMSP), else the hub itself."""
    if not partner.is_hub:
        return None
    if party and len(party[0]) == 2 and len(party[1]) == 3:
        return party
    return partner.country_code, partner.party_id


def route_from(partner: Partner) -> tuple[str, str] | None:
    """The OCPI-from-* of a request to a hub: our own party."""
    if not partner.is_hub:
        return None
    profile = profile_get()
    return profile.country_code, profile.party_id


@transaction.atomic
def push_enqueue(
    *,
    partners: Iterable[Partner],
    module: str,
    method: str,
    path: str,
    body: Any,
    party: tuple[str, str] | None = None,
) -> list[Push]:
    """``party``: whom the push is for behind a hub (a token's country code and party id)."""
    now = timezone.now()
    body = json.loads(protocol.dumps(body))  # stored as it will be sent: OCPI numbers
    pushes = [
        Push(
            partner=partner,
            module=module,
            method=method,
            path=path,
            body=body,
            next_attempt_at=now,
            route_to="".join(party) if party and partner.is_hub else "",
        )
        for partner in partners
    ]
    if pushes:
        Push.objects.bulk_create(pushes)
        _queue(pushes)
    return pushes


def _claim(push_id: int, now: dt.datetime) -> bool:
    waiting = Q(status__in=[PushStatus.PENDING, PushStatus.RETRYING], next_attempt_at__lte=now)
    lost = Q(status=PushStatus.SENDING, last_attempt_at__lt=now - SENDING_LEASE)
    claimed = Push.objects.filter(waiting | lost, pk=push_id).update(
        status=PushStatus.SENDING, attempts=F("attempts") + 1, last_attempt_at=now
    )
    return claimed == 1


def push_attempt(*, push_id: int) -> Push | None:
    """Send one push.  Returns it with its new status, or None if it was not ours to send."""
    now = timezone.now()
    if not _claim(push_id, now):
        return None
    push = Push.objects.select_related("partner").get(pk=push_id)
    partner = push.partner
    url = push.path if push.path.startswith("http") else None
    if url is None:
        base = partner.endpoint(push.module)
        url = base + push.path if base else None
    answer, error = None, ""
    if partner.status != PartnerStatus.CONNECTED:
        error = "The partner is not connected."
    elif url is None:
        error = f"The partner has no {push.module} endpoint."
    else:
        body = push.body
        if partner.version == protocol.V211:
            profile = profile_get()
            party = (profile.country_code, profile.party_id)
            body = shapes211.push_body(
                push.module,
                body,
                lambda *ids: selectors.location_211(*ids, party=party),
            )
        try:
            answer = client.call(
                push.method,
                url,
                token=partner.outgoing_token,
                version=partner.version,
                body=body,
                route_to=route_for(
                    partner, (push.route_to[:2], push.route_to[2:]) if push.route_to else None
                ),
                route_from=route_from(partner),
            )
        except client.OcpiError as failure:
            error = str(failure)[:500]
    push.response_status = answer.http_status if answer else None
    push.ocpi_status = answer.status_code if answer else None
    if answer is not None and not answer.ok:
        error = f"HTTP {answer.http_status}, OCPI status {answer.status_code}"
    push.error = error
    if answer is not None and answer.ok:
        push.status = PushStatus.SUCCEEDED
        push.delivered_at = timezone.now()
        push.next_attempt_at = None
    elif push.attempts < MAX_ATTEMPTS and partner.status == PartnerStatus.CONNECTED:
        push.status = PushStatus.RETRYING
        push.next_attempt_at = timezone.now() + retry_delay(push.attempts)
    else:
        push.status = PushStatus.FAILED
        push.next_attempt_at = None
    push.save(
        update_fields=[
            "status",
            "next_attempt_at",
            "response_status",
            "ocpi_status",
            "error",
            "delivered_at",
        ]
    )
    return push


def pushes_requeue() -> int:
    """Queue again the pushes whose task was lost (overdue, or stuck while sending)."""
    now = timezone.now()
    overdue = Q(
        status__in=[PushStatus.PENDING, PushStatus.RETRYING],
        next_attempt_at__lt=now - dt.timedelta(minutes=1),
    )
    lost = Q(status=PushStatus.SENDING, last_attempt_at__lt=now - SENDING_LEASE)
    pushes = list(Push.objects.filter(overdue | lost).only("pk", "partner_id")[:1000])
    if pushes:
        _queue(pushes)
    return len(pushes)
