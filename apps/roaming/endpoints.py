"""The OCPI endpoints we serve at ``/ocpi/`` on each tenant's host (the CPO side).

Each view authenticates the partner from its credentials token, parses, calls one service or
selector and answers in the OCPI envelope.  Plain Django views rather than DRF: OCPI brings its
own authentication, envelope, error codes and pagination, none of which are the portal API's.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from . import protocol, selectors, services, shapes211
from .choices import PartnerStatus
from .models import RemoteToken
from .remote import RESULT_TIMEOUT_SECONDS, command_receive

logger = logging.getLogger(__name__)
PARTY_RE = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}$")

MODULES_221 = [
    ("credentials", "SENDER", "roaming_ocpi:credentials"),
    ("credentials", "RECEIVER", "roaming_ocpi:credentials"),
    ("locations", "SENDER", "roaming_ocpi:locations"),
    ("tariffs", "SENDER", "roaming_ocpi:tariffs"),
    ("tokens", "RECEIVER", "roaming_ocpi:tokens_root"),
    ("commands", "RECEIVER", "roaming_ocpi:commands_root"),
    ("chargingprofiles", "RECEIVER", "roaming_ocpi:chargingprofiles_root"),
]


def ocpi_view(*, methods: tuple[str, ...], registered: bool = True):
    """Token authentication and the envelope's errors.  ``registered=False`` lets an invited
    partner in with its token A (versions and credentials only)."""

    def wrap(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if request.method not in methods:
                return protocol.error(
                    protocol.CLIENT_ERROR, "Method not allowed", http_status=405, request=request
                )
            token = protocol.decode_token(request.headers.get("Authorization", ""))
            partner = selectors.partner_by_token(token)
            if partner is None:
                return protocol.error(
                    protocol.CLIENT_ERROR, "Unknown token", http_status=401, request=request
                )
            if registered and partner.status != PartnerStatus.CONNECTED:
                return protocol.error(
                    protocol.CLIENT_ERROR, "Not registered", http_status=403, request=request
                )
            request.partner = partner
            if registered:
                routed = _routing(request, partner)
                if isinstance(routed, JsonResponse):
                    return routed
                request.ocpi_from = routed
            try:
                return view(request, *args, **kwargs)
            except (ValueError, KeyError, TypeError) as failure:
                return protocol.error(
                    protocol.INVALID_PARAMETERS, f"Invalid request: {failure}", request=request
                )

        return wrapped

    return wrap


def _header_party(request: HttpRequest, direction: str) -> tuple[str, str] | None | str:
    """``OCPI-<direction>-country-code`` / ``-party-id`` as (country code, party id); None when
    neither is sent; a message when only one is, or one is malformed."""
    country = request.headers.get(f"OCPI-{direction}-country-code", "").strip()
    party = request.headers.get(f"OCPI-{direction}-party-id", "").strip()
    if not country and not party:
        return None
    if not PARTY_RE.match(f"{country.upper()}{party.upper()}"):
        return f"OCPI-{direction}-country-code and OCPI-{direction}-party-id are malformed"
    return country.upper(), party.upper()


def _routing(request: HttpRequest, partner) -> tuple[str, str] | JsonResponse:
    """The routing headers of a module request (OCPI 2.2.1 Part I §4.1.3).  A hub forwards
    requests of other parties: it must say whom from (``OCPI-from-*``), and the party named
    must not be us.  A party connected directly may send the headers; then they name itself.
    ``OCPI-to-*``, when sent, must name us.  Returns the sending party (the hub's party it
    forwards for, else the partner's own), or the error answer."""
    sender, receiver = _header_party(request, "from"), _header_party(request, "to")
    for found in (sender, receiver):
        if isinstance(found, str):
            return protocol.error(protocol.INVALID_PARAMETERS, found, request=request)
    ours = _party(request)
    if receiver is not None and receiver != ours:
        return protocol.error(
            protocol.INVALID_PARAMETERS,
            f"OCPI-to-* names {''.join(receiver)}, not us ({''.join(ours)})",
            request=request,
        )
    own = (partner.country_code, partner.party_id)
    if partner.is_hub:
        if sender is None:
            return protocol.error(
                protocol.INVALID_PARAMETERS,
                "A request through a hub needs OCPI-from-country-code and OCPI-from-party-id",
                request=request,
            )
        if sender == ours:
            return protocol.error(
                protocol.INVALID_PARAMETERS, "OCPI-from-* names us", request=request
            )
        return sender
    if sender is not None and sender != own:
        return protocol.error(
            protocol.CLIENT_ERROR,
            f"OCPI-from-* names {''.join(sender)}, not your party",
            http_status=403,
            request=request,
        )
    return own


def _body(request: HttpRequest) -> dict:
    data = json.loads(request.body or b"null")
    if not isinstance(data, dict):
        raise ValueError("a JSON object is required")
    return data


def _party(request: HttpRequest) -> tuple[str, str]:
    profile = services.profile_get()
    return profile.country_code, profile.party_id


# --- Versions --------------------------------------------------------------------------------
@ocpi_view(methods=("GET",), registered=False)
def versions(request):
    return protocol.response(
        [
            {
                "version": version,
                "url": request.build_absolute_uri(
                    reverse("roaming_ocpi:version_details", kwargs={"version": version})
                ),
            }
            for version in protocol.SUPPORTED_VERSIONS
        ],
        request=request,
    )


@ocpi_view(methods=("GET",), registered=False)
def version_details(request, version: str):
    if version not in protocol.SUPPORTED_VERSIONS:
        return protocol.error(protocol.UNSUPPORTED_VERSION, "Unsupported version", request=request)

    def url(name):
        return request.build_absolute_uri(reverse(name, kwargs={"version": version}))

    if version == protocol.V211:
        endpoints = [
            {"identifier": identifier, "url": url(name)}
            for identifier, name in {(m[0], m[2]) for m in MODULES_221}
        ]
        endpoints.sort(key=lambda e: e["identifier"])
    else:
        endpoints = [
            {"identifier": identifier, "role": role, "url": url(name)}
            for identifier, role, name in MODULES_221
        ]
    return protocol.response({"version": version, "endpoints": endpoints}, request=request)


# --- Credentials -----------------------------------------------------------------------------
@ocpi_view(methods=("GET", "POST", "PUT", "DELETE"), registered=False)
def credentials(request, version: str):
    partner = request.partner
    if request.method == "GET":
        if partner.status != PartnerStatus.CONNECTED:
            return protocol.error(
                protocol.CLIENT_ERROR, "Not registered", http_status=403, request=request
            )
        return protocol.response(
            services.our_credentials(partner.incoming_token, version), request=request
        )
    if request.method == "DELETE":
        if partner.status != PartnerStatus.CONNECTED:
            return protocol.error(
                protocol.CLIENT_ERROR, "Not registered", http_status=405, request=request
            )
        services.credentials_deleted(partner=partner)
        return protocol.response(request=request)
    update = request.method == "PUT"
    if update == (partner.status != PartnerStatus.CONNECTED):
        # POST when registered, PUT when not: 405 as the spec says
        return protocol.error(
            protocol.CLIENT_ERROR,
            "Wrong method for the registration state",
            http_status=405,
            request=request,
        )
    try:
        ours = services.credentials_received(
            partner=partner, credentials=_body(request), update=update
        )
    except (services.HandshakeError, services.client.OcpiError) as failure:
        partner.last_error = str(failure)[:500]
        partner.save(update_fields=["last_error"])
        return protocol.error(protocol.UNABLE_TO_USE_CLIENT_API, str(failure), request=request)
    return protocol.response(ours, request=request)


# --- Locations (sender) ----------------------------------------------------------------------
def _limit(request) -> tuple[int, int]:
    offset = max(int(request.GET.get("offset", 0)), 0)
    limit = int(request.GET.get("limit", protocol.DEFAULT_LIMIT))
    return offset, min(max(limit, 1), protocol.MAX_LIMIT)


def _page_headers(request, *, offset: int, limit: int, total: int) -> dict[str, str]:
    """X-Total-Count, X-Limit and, unless this is the last page, the Link to the next one."""
    headers = {"X-Total-Count": str(total), "X-Limit": str(limit)}
    if offset + limit < total:
        query = {k: v for k, v in request.GET.items() if k in ("date_from", "date_to")}
        query.update(offset=offset + limit, limit=limit)
        headers["Link"] = (
            f'<{request.build_absolute_uri(request.path)}?{urlencode(query)}>; rel="next"'
        )
    return headers


def _period(request) -> tuple:
    return tuple(
        protocol.parse_timestamp(request.GET[name]) if request.GET.get(name) else None
        for name in ("date_from", "date_to")
    )


@ocpi_view(methods=("GET",))
def locations(request, version: str):
    offset, limit = _limit(request)
    queryset = selectors.locations_queryset()
    if request.GET.get("date_from"):
        queryset = queryset.filter(
            last_updated__gte=protocol.parse_timestamp(request.GET["date_from"])
        )
    if request.GET.get("date_to"):
        queryset = queryset.filter(
            last_updated__lt=protocol.parse_timestamp(request.GET["date_to"])
        )
    total = queryset.values("pk").count()
    party = _party(request)
    sites = list(queryset[offset : offset + limit])
    # the page's connector tariffs in one question (not one per location)
    tariffs = selectors.connector_tariffs([st for site in sites for st in site.stations.all()])
    page = [selectors.location_data(site, party=party, tariffs=tariffs) for site in sites]
    headers = _page_headers(request, offset=offset, limit=limit, total=total)
    if version == protocol.V211:
        page = [shapes211.location(location) for location in page]
    return protocol.response(page, request=request, headers=headers)


@ocpi_view(methods=("GET",))
def location_detail(request, version: str, location_id: str, evse_uid=None, connector_id=None):
    pk = selectors.site_pk(location_id)
    site = selectors.locations_queryset().filter(pk=pk).first() if pk else None
    if site is None:
        return protocol.error(
            protocol.UNKNOWN_LOCATION, "Unknown location", http_status=404, request=request
        )
    data = selectors.location_data(site, party=_party(request))
    v211 = version == protocol.V211
    if evse_uid is None:
        return protocol.response(shapes211.location(data) if v211 else data, request=request)
    evse = next((e for e in data["evses"] if e["uid"] == evse_uid), None)
    if evse is None:
        return protocol.error(
            protocol.UNKNOWN_LOCATION, "Unknown EVSE", http_status=404, request=request
        )
    if connector_id is None:
        return protocol.response(shapes211.evse(evse) if v211 else evse, request=request)
    connector = next((c for c in evse["connectors"] if c["id"] == connector_id), None)
    if connector is None:
        return protocol.error(
            protocol.UNKNOWN_LOCATION, "Unknown connector", http_status=404, request=request
        )
    return protocol.response(shapes211.connector(connector) if v211 else connector, request=request)


# --- Tariffs (sender) ------------------------------------------------------------------------
@ocpi_view(methods=("GET",))
def tariffs(request, version: str):
    from . import tariffs as published

    offset, limit = _limit(request)
    date_from, date_to = _period(request)
    found = published.in_period(published.published(), date_from, date_to)
    headers = _page_headers(request, offset=offset, limit=limit, total=len(found))
    page = found[offset : offset + limit]
    if version == protocol.V211:
        page = [shapes211.tariff(tariff) for tariff in page]
    return protocol.response(page, request=request, headers=headers)


# --- Tokens (receiver) -----------------------------------------------------------------------
@ocpi_view(methods=("GET",))
def tokens_root(request, version: str):
    return protocol.error(protocol.CLIENT_ERROR, "Name the object in the path", request=request)


@ocpi_view(methods=("GET", "PUT", "PATCH"))
def token(request, version: str, country_code: str, party_id: str, uid: str):
    partner = request.partner
    token_type = request.GET.get("type", "RFID")
    if (country_code, party_id) != request.ocpi_from:
        return protocol.error(
            protocol.CLIENT_ERROR, "Not your party", http_status=403, request=request
        )
    if request.method == "GET":
        found = RemoteToken.objects.filter(
            partner=partner,
            country_code=country_code,
            party_id=party_id,
            uid=uid,
            token_type=token_type,
        ).first()
        if found is None:
            return protocol.error(
                protocol.UNKNOWN_TOKEN, "Unknown token", http_status=404, request=request
            )
        return protocol.response(found.data, request=request)
    try:
        services.token_store(
            partner=partner,
            data=_body(request),
            country_code=country_code,
            party_id=party_id,
            uid=uid,
            token_type=token_type,
            partial=request.method == "PATCH",
        )
    except RemoteToken.DoesNotExist:
        return protocol.error(
            protocol.UNKNOWN_TOKEN, "Unknown token", http_status=404, request=request
        )
    except ValidationError as failure:
        return protocol.error(protocol.INVALID_PARAMETERS, str(failure), request=request)
    return protocol.response(request=request)


def not_found(request, *args, **kwargs) -> JsonResponse:
    return protocol.error(
        protocol.CLIENT_ERROR, "Unknown endpoint", http_status=404, request=request
    )


# --- Commands (receiver) ---------------------------------------------------------------------
@ocpi_view(methods=("POST",))
def command(request, version: str, command: str):
    result, message = command_receive(
        partner=request.partner,
        command=command.upper(),
        body=_body(request),
        version=version,
        sender=request.ocpi_from,
    )
    if version == protocol.V211:
        # 2.1.1's CommandResponse is the result alone (no timeout, no message)
        return protocol.response({"result": result}, request=request)
    return protocol.response(
        {
            "result": result,
            "timeout": RESULT_TIMEOUT_SECONDS,
            "message": [{"language": "en", "text": message}],
        },
        request=request,
    )


# --- Charging profiles (receiver) ------------------------------------------------------------
@ocpi_view(methods=("GET", "PUT", "DELETE"))
def charging_profile(request, version: str, session_id: str):
    from . import profiles

    response_url = request.GET.get("response_url", "")
    try:
        if request.method == "PUT":
            result = profiles.profile_set(
                partner=request.partner, session_id=session_id, body=_body(request)
            )
        elif request.method == "DELETE":
            result = profiles.profile_clear(
                partner=request.partner, session_id=session_id, response_url=response_url
            )
        else:
            result = profiles.profile_get(
                partner=request.partner, session_id=session_id, response_url=response_url
            )
    except profiles.ProfileError as failure:
        return protocol.error(protocol.INVALID_PARAMETERS, str(failure), request=request)
    return protocol.response(
        {"result": result, "timeout": profiles.RESULT_TIMEOUT_SECONDS}, request=request
    )
