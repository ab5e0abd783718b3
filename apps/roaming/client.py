"""Calling a partner's OCPI endpoints: one request, the envelope read back.

Kept-alive connections (urllib3), no redirects, no proxies from the environment, a short
timeout and (unless ``ROAMING_ALLOW_PRIVATE_NETWORKS``) never a private or loopback address, so
that a tenant cannot use a partner URL to probe the platform's own network.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

from . import protocol

TIMEOUT_SECONDS = 10
KEEP_BODY_CHARS = 2_000_000


class OcpiError(Exception):
    """No usable answer: unreachable, not JSON, or not a success envelope."""

    def __init__(self, message: str, *, http_status: int | None = None, ocpi_status=None):
        super().__init__(message)
        self.http_status = http_status
        self.ocpi_status = ocpi_status


@dataclass(frozen=True)
class OcpiAnswer:
    http_status: int
    status_code: int | None
    data: Any
    headers: dict[str, str]

    @property
    def ok(self) -> bool:
        return (
            200 <= self.http_status < 300
            and self.status_code is not None
            and (1000 <= self.status_code < 2000)
        )


# One pool of kept-alive connections per partner host, shared by the threads that send (a
# drain sends ROAMING_PUSH_CONCURRENCY requests at a time to one partner): a push costs a
# request, not a TCP (and TLS) handshake.  urllib3 reads no proxy from the environment and
# follows no redirect unless asked; retries are the outbox's business.
_pools = urllib3.PoolManager(num_pools=100, maxsize=16, block=False, retries=False)


def check_destination(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OcpiError(f"Not an http(s) URL: {url}")
    if getattr(settings, "ROAMING_ALLOW_PRIVATE_NETWORKS", False):
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except socket.gaierror as failure:
        raise OcpiError(f"Cannot resolve {parts.hostname}: {failure}") from failure
    for info in infos:
        if not ipaddress.ip_address(info[4][0]).is_global:
            raise OcpiError(f"{parts.hostname} resolves to a non-public address")


def call(
    method: str,
    url: str,
    *,
    token: str,
    version: str = protocol.V221,
    body: Any = None,
    correlation_id: str | None = None,
    route_to: tuple[str, str] | None = None,
    route_from: tuple[str, str] | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> OcpiAnswer:
    """One OCPI request.  ``route_to``/``route_from`` are (country_code, party_id) for hubs."""
    check_destination(url)
    headers = {
        "Authorization": protocol.encode_token(token, version),
        "Accept": "application/json",
        "X-Request-ID": str(uuid.uuid4()),
        "X-Correlation-ID": correlation_id or str(uuid.uuid4()),
        "User-Agent": "chargegrid-ocpi/1",
    }
    if route_to:
        headers["OCPI-to-country-code"], headers["OCPI-to-party-id"] = route_to
    if route_from:
        headers["OCPI-from-country-code"], headers["OCPI-from-party-id"] = route_from
    data = None
    if body is not None:
        data = protocol.dumps(body)
        headers["Content-Type"] = "application/json"
    try:
        answer = _pools.request(
            method,
            url,
            body=data,
            headers=headers,
            redirect=False,
            retries=False,
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            preload_content=False,
        )
    except (urllib3.exceptions.HTTPError, OSError, ValueError) as failure:
        raise OcpiError(str(failure)) from failure
    complete = False
    try:
        status, raw, answer_headers = answer.status, answer.read(KEEP_BODY_CHARS), answer.headers
        complete = len(raw) < KEEP_BODY_CHARS
    except (urllib3.exceptions.HTTPError, OSError) as failure:
        raise OcpiError(str(failure)) from failure
    finally:
        if complete:
            answer.release_conn()  # read to its end: kept for the next request
        else:
            answer.close()  # cut short: the connection goes with it
    try:
        payload = json.loads(raw or b"null")
    except ValueError:
        payload = None
    status_code = payload.get("status_code") if isinstance(payload, dict) else None
    data_out = payload.get("data") if isinstance(payload, dict) else None
    return OcpiAnswer(status, status_code, data_out, dict(answer_headers or {}))


def call_ok(method: str, url: str, **kwargs) -> OcpiAnswer:
    answer = call(method, url, **kwargs)
    if not answer.ok:
        raise OcpiError(
            f"{method} {url}: HTTP {answer.http_status}, OCPI {answer.status_code}",
            http_status=answer.http_status,
            ocpi_status=answer.status_code,
        )
    return answer
