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

import dataclasses
import datetime as dt
import hashlib
import json
import secrets
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
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
    """One drain task per partner: it sends whatever of the partner's is due (these too)."""
    for partner_id in dict.fromkeys(partner_id for partner_id, _ in entries):
        queue.push_drain(partner_id)


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


def object_key(module: str, path: str) -> str:
    """The pushes of one object share a key (an EVSE's PATCHes, a session's PUT and PATCHes)."""
    return hashlib.sha1(f"{module} {path}".encode(), usedforsecurity=False).hexdigest()


@transaction.atomic
def push_enqueue(
    *,
    partners: Iterable[Partner],
    module: str,
    method: str,
    path: str,
    body: Any,
    party: tuple[str, str] | None = None,
    coalesce: bool = False,
) -> list[Push]:
    """``party``: whom the push is for behind a hub (a token's country code and party id).
    ``coalesce``: the body is the object's whole new state (a newer push replaces it)."""
    now = timezone.now()
    body = json.loads(protocol.dumps(body))  # stored as it will be sent: OCPI numbers
    key = object_key(module, path)
    pushes = [
        Push(
            partner=partner,
            module=module,
            method=method,
            path=path,
            body=body,
            next_attempt_at=now,
            route_to="".join(party) if party and partner.is_hub else "",
            object_key=key,
            coalesce=coalesce,
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


@dataclasses.dataclass
class _Outgoing:
    """One push ready to send (built in the thread that holds the database connection, sent
    from a pool thread that touches no database)."""

    push: Push
    url: str | None = None
    body: Any = None
    route_to: tuple[str, str] | None = None
    route_from: tuple[str, str] | None = None
    error: str = ""


def _prepare(push: Push, partner: Partner, party: tuple[str, str]) -> _Outgoing:
    out = _Outgoing(push=push)
    url = push.path if push.path.startswith("http") else None
    if url is None:
        base = partner.endpoint(push.module)
        url = base + push.path if base else None
    if partner.status != PartnerStatus.CONNECTED:
        out.error = "The partner is not connected."
        return out
    if url is None:
        out.error = f"The partner has no {push.module} endpoint."
        return out
    body = push.body
    if partner.version == protocol.V211:
        body = shapes211.push_body(
            push.module, body, lambda *ids: selectors.location_211(*ids, party=party)
        )
    out.url, out.body = url, body
    out.route_to = route_for(
        partner, (push.route_to[:2], push.route_to[2:]) if push.route_to else None
    )
    out.route_from = party if partner.is_hub else None
    return out


def _transmit(out: _Outgoing, partner: Partner) -> client.OcpiAnswer | None:
    """The HTTP request (no database: safe in a pool thread).  None: not sent (see error)."""
    if out.error:
        return None
    try:
        return client.call(
            out.push.method,
            out.url,
            token=partner.outgoing_token,
            version=partner.version,
            body=out.body,
            route_to=out.route_to,
            route_from=out.route_from,
        )
    except client.OcpiError as failure:
        out.error = str(failure)[:500]
        return None


RESULT_FIELDS = ["status", "next_attempt_at", "response_status", "ocpi_status", "error"]


def _record(push: Push, partner: Partner, answer, error: str) -> None:
    """The attempt's outcome on the push (not saved): delivered, retried later, or failed."""
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


def push_attempt(*, push_id: int) -> Push | None:
    """Send one push.  Returns it with its new status, or None if it was not ours to send."""
    now = timezone.now()
    if not _claim(push_id, now):
        return None
    push = Push.objects.select_related("partner").get(pk=push_id)
    partner = push.partner
    profile = profile_get()
    out = _prepare(push, partner, (profile.country_code, profile.party_id))
    answer = _transmit(out, partner)
    _record(push, partner, answer, out.error)
    push.save(update_fields=[*RESULT_FIELDS, "delivered_at"])
    return push


# --- Draining a partner's outbox: coalesced, concurrent, in order per object ------------------
DRAIN_BATCH = 500
DRAIN_ROUNDS = 50


def _drain_pool_size() -> int:
    return int(getattr(settings, "ROAMING_PUSH_CONCURRENCY", 8))


_CLAIM_SQL = """
UPDATE roaming_push SET status = 'sending', attempts = attempts + 1, last_attempt_at = %(now)s
WHERE id IN (
    SELECT id FROM roaming_push
    WHERE partner_id = %(partner)s AND (
        (status IN ('pending', 'retrying') AND next_attempt_at <= %(now)s)
        OR (status = 'sending' AND last_attempt_at < %(lost)s))
    ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
RETURNING id
"""
# Older unsent pushes of the objects just claimed: a coalescing object's are replaced by its
# newest (whatever their back-off); any other object's wait, unclaimed, for the oldest.
_SUPERSEDE_SQL = """
UPDATE roaming_push p SET status = 'superseded', next_attempt_at = NULL
FROM unnest(%(keys)s::varchar[], %(newest)s::bigint[]) AS n(object_key, newest)
WHERE p.partner_id = %(partner)s AND p.object_key = n.object_key AND p.id < n.newest
  AND p.coalesce AND p.status IN ('pending', 'retrying', 'sending')
RETURNING p.id
"""
_OLDEST_WAITING_SQL = """
SELECT object_key, min(id) FROM roaming_push
WHERE partner_id = %(partner)s AND object_key = ANY(%(keys)s::varchar[])
  AND status IN ('pending', 'retrying') AND NOT (id = ANY(%(claimed)s::bigint[]))
GROUP BY object_key
"""


def _partner_lock(cursor, partner_id: int, *, release: bool = False) -> bool:
    """A session advisory lock per (tenant schema, partner): one drainer per partner at a
    time, so that the pushes of one object never race each other."""
    function = "pg_advisory_unlock" if release else "pg_try_advisory_lock"
    cursor.execute(
        f"SELECT {function}(hashtext(%s), %s)",  # noqa: S608 (one of two names)
        [connection.schema_name, partner_id],
    )
    return bool(cursor.fetchone()[0])


def _send_chain(chain: list[_Outgoing], partner: Partner) -> list[tuple[_Outgoing, Any]]:
    """One object's pushes in order, stopping at the first that fails (the rest keep their
    place).  Runs in a pool thread: HTTP only."""
    done = []
    for out in chain:
        answer = _transmit(out, partner)
        done.append((out, answer))
        if answer is None or not answer.ok:
            break
    return done


def push_drain_round(*, partner: Partner) -> tuple[int, dt.datetime | None, int]:
    """Claim what is due of one partner's outbox (one query), drop what a newer state of the
    same EVSE replaces, send the rest concurrently (``ROAMING_PUSH_CONCURRENCY`` requests at
    a time, one object's pushes one after the other, in order) and record the outcomes (one
    query).  Returns (claimed, the earliest retry if any failed, delivered)."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_SQL,
            {"now": now, "partner": partner.pk, "lost": now - SENDING_LEASE, "limit": DRAIN_BATCH},
        )
        claimed = sorted(row[0] for row in cursor.fetchall())
    if not claimed:
        return 0, None, 0
    pushes = {push.pk: push for push in Push.objects.filter(pk__in=claimed).order_by("pk")}
    newest: dict[str, int] = {}
    for push in pushes.values():
        if push.coalesce and push.object_key:
            newest[push.object_key] = push.pk
    keys = sorted({push.object_key for push in pushes.values() if push.object_key})
    with connection.cursor() as cursor:
        if newest:
            cursor.execute(
                _SUPERSEDE_SQL,
                {"keys": list(newest), "newest": list(newest.values()), "partner": partner.pk},
            )
            for (superseded,) in cursor.fetchall():
                pushes.pop(superseded, None)
        waiting: dict[str, int] = {}
        if keys:
            cursor.execute(
                _OLDEST_WAITING_SQL, {"partner": partner.pk, "keys": keys, "claimed": claimed}
            )
            waiting = dict(cursor.fetchall())
    # An object with an older push still waiting for its back-off: its newer ones wait too
    # (given back, their attempt not counted), so that it is not overtaken.
    held_back = [
        push
        for push in pushes.values()
        if push.object_key in waiting and waiting[push.object_key] < push.pk
    ]
    for push in held_back:
        del pushes[push.pk]
    profile = profile_get()
    party = (profile.country_code, profile.party_id)
    chains: dict[str, list[_Outgoing]] = {}
    for push in pushes.values():
        chains.setdefault(push.object_key or f"#{push.pk}", []).append(
            _prepare(push, partner, party)
        )
    with ThreadPoolExecutor(max_workers=_drain_pool_size()) as pool:
        results = [
            item
            for done in pool.map(lambda chain: _send_chain(chain, partner), chains.values())
            for item in done
        ]
    attempted = {out.push.pk for out, _ in results}
    retry_at, delivered = None, 0
    for out, answer in results:
        _record(out.push, partner, answer, out.error)
        if out.push.status == PushStatus.SUCCEEDED:
            delivered += 1
        elif out.push.status == PushStatus.RETRYING:
            retry_at = min(filter(None, [retry_at, out.push.next_attempt_at]))
    unsent = [push for push in pushes.values() if push.pk not in attempted] + held_back
    for push in unsent:  # behind a failure of their object, or held back: not an attempt
        push.status, push.attempts = PushStatus.RETRYING, push.attempts - 1
        push.next_attempt_at = retry_at or now + retry_delay(1)
    with transaction.atomic():
        Push.objects.bulk_update(
            [out.push for out, _ in results], [*RESULT_FIELDS, "delivered_at"], batch_size=500
        )
        if unsent:
            Push.objects.bulk_update(unsent, ["status", "attempts", "next_attempt_at"])
    if unsent and retry_at is None:
        retry_at = min(push.next_attempt_at for push in unsent)
    return len(claimed), retry_at, delivered


def push_drain(*, partner_id: int) -> int:
    """Send everything due of one partner, round after round, while holding its lock; a
    drainer that finds the lock taken leaves it to the holder, who looks again after letting
    go (so nothing committed meanwhile waits for the sweep).  A round with a failure ends the
    drain: what failed is retried after its back-off (a task queued for then).  Returns how
    many were delivered."""
    partner = Partner.objects.filter(pk=partner_id).first()
    if partner is None:
        return 0
    delivered, retry_at = 0, None
    while True:
        with connection.cursor() as cursor:
            if not _partner_lock(cursor, partner_id):
                return delivered
        try:
            for _ in range(DRAIN_ROUNDS):
                claimed, retry_at, sent = push_drain_round(partner=partner)
                delivered += sent
                if not claimed or retry_at is not None:
                    break
        finally:
            with connection.cursor() as cursor:
                _partner_lock(cursor, partner_id, release=True)
        if retry_at is not None:
            wait = max((retry_at - timezone.now()).total_seconds(), 0)
            queue.push_drain(partner_id, countdown=wait)
            return delivered
        if not Push.objects.filter(
            partner_id=partner_id,
            status__in=[PushStatus.PENDING, PushStatus.RETRYING],
            next_attempt_at__lte=timezone.now(),
        ).exists():
            return delivered


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
