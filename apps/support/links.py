"""Links and addresses that carry a case without a sign-in.

* The driver's page of a case: ``support:case_public`` with a signed ``{"case", "k"}`` (``k``
  a prefix of the case's secret: rotating the secret revokes every link).
* The e-mail confirmation of a driver's new case: signed with its own salt, valid two days.
* The reply address ``case+<tenant>.<case>.<mac>@<SUPPORT_REPLY_DOMAIN>``: the MAC (an HMAC of
  the tenant, the case and its secret under the project's ``SECRET_KEY``) is what lets any
  reply to it join the conversation.  Without a reply domain, replies are threaded by the
  reference in the subject, ``[<TENANT>-<case>]``, and only from the requester's or a staff
  member's own address.
* A signed opening link (``sign_open_link``): other pages that know the driver (a receipt
  e-mailed to them) may sign the e-mail address with the station, session and receipt; the
  case is then opened at once, without the confirmation e-mail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db import connection
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

CASE_SALT = "support.case"
VERIFY_SALT = "support.verify"
OPEN_SALT = "support.open"  # other apps sign opening links with this salt (docs/support.md)
VERIFY_MAX_AGE = 2 * 24 * 3600
REPLY_PATTERN = re.compile(r"^case\+([a-z0-9-]+)\.(\d+)\.([0-9a-f]{16})@", re.IGNORECASE)
SUBJECT_PATTERN = re.compile(r"\[([A-Za-z0-9-]+)-(\d+)\]")


def tenant_slug() -> str:
    return getattr(connection.tenant, "slug", "") or connection.schema_name


def reference(case) -> str:
    return f"{tenant_slug().upper()}-{case.pk}"


def absolute(path: str) -> str:
    domain = connection.tenant.get_primary_domain().domain
    return f"{settings.PORTAL_URL_SCHEME}://{domain}{path}"


# --- The driver's page ------------------------------------------------------------------------
def public_path(case) -> str:
    signed = signing.dumps({"case": case.pk, "k": case.secret[:8]}, salt=CASE_SALT)
    return reverse("support:case_public", args=[signed], urlconf=settings.ROOT_URLCONF)


def case_id_from_public(signed: str) -> tuple[int, str] | None:
    try:
        data = signing.loads(signed, salt=CASE_SALT)
        return int(data["case"]), str(data["k"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def verify_path(case) -> str:
    signed = signing.dumps({"case": case.pk, "k": case.secret[:8]}, salt=VERIFY_SALT)
    return reverse("support:verify", args=[signed], urlconf=settings.ROOT_URLCONF)


def case_id_from_verify(signed: str) -> tuple[int, str] | None:
    try:
        data = signing.loads(signed, salt=VERIFY_SALT, max_age=VERIFY_MAX_AGE)
        return int(data["case"]), str(data["k"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


# --- Opening links ----------------------------------------------------------------------------
@dataclass(frozen=True)
class OpenContext:
    station: str = ""
    session: int | None = None
    receipt: str = ""
    email: str = ""  # set only by a valid signature


def sign_open_link(
    *, email: str, station: str = "", session: int | None = None, receipt: str = ""
) -> str:
    """The path of ``support:open`` for a driver the caller knows (their e-mail signed)."""
    params: dict[str, str] = {}
    if station:
        params["station"] = station
    if session:
        params["session"] = str(session)
    if receipt:
        params["receipt"] = receipt
    params["sig"] = signing.dumps(
        {"email": email.lower(), "station": station, "session": session, "receipt": receipt},
        salt=OPEN_SALT,
    )
    return f"{reverse('support:open', urlconf=settings.ROOT_URLCONF)}?{urlencode(params)}"


def open_context(query) -> OpenContext:
    """What an opening link attaches.  A valid ``sig`` wins over the plain parameters (and
    vouches for the driver's e-mail); plain parameters attach without vouching."""
    signed = query.get("sig")
    if signed:
        try:
            data = signing.loads(signed, salt=OPEN_SALT)
            return OpenContext(
                station=str(data.get("station") or ""),
                session=int(data["session"]) if data.get("session") else None,
                receipt=str(data.get("receipt") or "")[:64],
                email=str(data.get("email") or ""),
            )
        except (signing.BadSignature, TypeError, ValueError):
            pass
    session = query.get("session", "")
    return OpenContext(
        station=str(query.get("station", ""))[:48],
        session=int(session) if str(session).isdigit() else None,
        receipt=str(query.get("receipt", ""))[:64],
    )


# --- Replies by e-mail ------------------------------------------------------------------------
def _mac(slug: str, case_id: int, secret: str) -> str:
    return salted_hmac("support.reply", f"{slug}:{case_id}:{secret}").hexdigest()[:16]


def reply_address(case) -> str:
    """The case's own reply address, or "" when no reply domain is configured."""
    domain = getattr(settings, "SUPPORT_REPLY_DOMAIN", "")
    if not domain:
        return ""
    slug = tenant_slug()
    return f"case+{slug}.{case.pk}.{_mac(slug, case.pk, case.secret)}@{domain}"


@dataclass(frozen=True)
class Addressed:
    tenant_slug: str
    case_id: int
    mac: str = ""  # "" when found by the subject's reference (then the sender must be known)

    def mac_matches(self, secret: str) -> bool:
        return bool(self.mac) and constant_time_compare(
            self.mac, _mac(self.tenant_slug, self.case_id, secret)
        )


def addressed_case(recipients: list[str], subject: str) -> Addressed | None:
    """Which case an inbound e-mail answers: its reply address first, then the subject."""
    for address in recipients:
        match = REPLY_PATTERN.match(address.strip())
        if match:
            return Addressed(match.group(1).lower(), int(match.group(2)), match.group(3).lower())
    match = SUBJECT_PATTERN.search(subject or "")
    if match:
        return Addressed(match.group(1).lower(), int(match.group(2)))
    return None
