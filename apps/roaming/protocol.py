"""OCPI 2.2.1 wire rules, written from the specification (Part I, "transport and format").

- Every answer is an envelope ``{data, status_code, status_message, timestamp}``; HTTP status
  says whether the request reached the module, ``status_code`` what the module made of it
  (1000 success, 2xxx client errors, 3xxx server errors).
- ``Authorization: Token <base64(token)>`` in 2.2.1; 2.1.1 sends the token raw.  We accept both
  (a token that is not valid base64 of printable text is taken as it is) and send base64 to
  2.2.1 partners, raw to 2.1.1 ones.
- Requests carry ``X-Request-ID`` (new per request) and ``X-Correlation-ID`` (kept across the
  requests of one exchange); hubs route with ``OCPI-to-party-id`` / ``OCPI-to-country-code``
  and say who sent with ``OCPI-from-*``.
- Timestamps are UTC, ``YYYY-MM-DDThh:mm:ssZ``; paginated GETs answer ``Link: <next>;
  rel="next"``, ``X-Total-Count`` and ``X-Limit``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

from django.http import JsonResponse

V221 = "2.2.1"
V211 = "2.1.1"
SUPPORTED_VERSIONS = (V221, V211)

# status_code values (OCPI 2.2.1 Part I §5)
SUCCESS = 1000
CLIENT_ERROR = 2000
INVALID_PARAMETERS = 2001
NOT_ENOUGH_INFORMATION = 2002
UNKNOWN_LOCATION = 2003
UNKNOWN_TOKEN = 2004
SERVER_ERROR = 3000
UNABLE_TO_USE_CLIENT_API = 3001
UNSUPPORTED_VERSION = 3002
NO_MATCHING_ENDPOINTS = 3003
HUB_ERROR = 4000

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def timestamp(value: dt.datetime | None = None) -> str:
    value = value or dt.datetime.now(dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(value: str) -> dt.datetime:
    """OCPI timestamps are UTC; a value without a zone is read as UTC (the spec's rule)."""
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def encode_token(token: str, version: str = V221) -> str:
    if version == V211:
        return f"Token {token}"
    return "Token " + base64.b64encode(token.encode()).decode()


def decode_token(header: str) -> str | None:
    """The credentials token of an ``Authorization`` header, base64 or raw (2.1.1)."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "token" or not value.strip():
        return None
    value = value.strip()
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return value
    if decoded and decoded.isprintable() and base64.b64encode(decoded.encode()).decode() == value:
        return decoded
    return value


class OcpiEncoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, Decimal):
            return float(o) if o != o.to_integral_value() else int(o)
        if isinstance(o, dt.datetime):
            return timestamp(o)
        return super().default(o)


def envelope(
    data: Any = None, *, status_code: int = SUCCESS, message: str = "Success"
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status_code": status_code,
        "status_message": message,
        "timestamp": timestamp(),
    }
    if data is not None:
        body["data"] = data
    return body


def response(
    data: Any = None,
    *,
    status_code: int = SUCCESS,
    message: str = "Success",
    http_status: int = 200,
    request=None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    answer = JsonResponse(
        envelope(data, status_code=status_code, message=message),
        status=http_status,
        encoder=OcpiEncoder,
        safe=False,
    )
    if request is not None:
        # Echo the ids so that both sides' logs line up.
        answer["X-Request-ID"] = request.headers.get("X-Request-ID") or str(uuid.uuid4())
        answer["X-Correlation-ID"] = request.headers.get("X-Correlation-ID") or str(uuid.uuid4())
    for name, value in (headers or {}).items():
        answer[name] = value
    return answer


def error(status_code: int, message: str, *, http_status: int = 400, request=None) -> JsonResponse:
    return response(
        None, status_code=status_code, message=message, http_status=http_status, request=request
    )


def dumps(data: Any) -> bytes:
    return json.dumps(data, cls=OcpiEncoder, separators=(",", ":")).encode()
