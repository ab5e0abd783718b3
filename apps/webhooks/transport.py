"""Sending one HTTP POST to an integrator: no redirects, no proxies from the environment, a
short timeout, and (unless allowed by settings) never to private or loopback addresses, so a
tenant cannot use webhooks to probe the platform's own network."""

from __future__ import annotations

import ipaddress
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

TIMEOUT_SECONDS = 10
KEEP_RESPONSE_CHARS = 2000


class DeliveryError(Exception):
    """The request did not get an HTTP answer (refused, unreachable, timed out)."""


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: str


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def check_destination(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryError(f"Not an http(s) URL: {url}")
    if getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_NETWORKS", False):
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise DeliveryError(f"Cannot resolve {parts.hostname}: {error}") from error
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise DeliveryError(f"{parts.hostname} resolves to a non-public address ({address})")


def post(url: str, body: bytes, headers: dict[str, str]) -> HttpAnswer:
    check_destination(url)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            text = response.read(KEEP_RESPONSE_CHARS).decode("utf-8", "replace")
            return HttpAnswer(response.status, text)
    except urllib.error.HTTPError as error:  # an answer, just not a 2xx one
        text = error.read(KEEP_RESPONSE_CHARS).decode("utf-8", "replace") if error.fp else ""
        return HttpAnswer(error.code, text)
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise DeliveryError(str(getattr(error, "reason", error))) from error
