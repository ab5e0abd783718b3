"""An independent OCPI 2.2.1 eMSP, written from the specification for the tests, run as its own
process (``python tests/roaming/emsp_peer.py --port N``).  Standard library only: it shares no
code with ``apps.roaming``, so the two sides can only agree through the wire protocol.

It serves the eMSP's side (versions, credentials, locations/sessions/cdrs receivers, tokens
sender with real-time ``authorize``, commands receiver for async results) and a ``/_control``
API, without authentication, for the test to drive it and read what it received:

- ``POST /_control/issue`` ``{"token": ...}``: a registration token A the CPO may use.
- ``POST /_control/register`` ``{"versions_url", "token"}``: register with the CPO (the eMSP
  starts the handshake); answers ``{"ok", "error"}``.
- ``POST /_control/set`` ``{"down": bool, "authorize": {uid: AllowedType}, "tokens": [...]}``.
- ``POST /_control/call`` ``{"method", "url", "body"}``: call the CPO with our token for it.
- ``GET /_control/state``: everything received and the handshake state.

``PEER_CONNECT_TO=host:port`` sends every outbound request to that address (keeping the URL's
host in the ``Host`` header), so that tenant host names need no DNS.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

VERSION = os.environ.get("PEER_VERSION", "2.2.1")  # "2.1.1": a partner of that version
STATE_LOCK = threading.Lock()
STATE = {
    "country_code": "NL",
    "party_id": "EMS",
    "registration_tokens": [],  # tokens A we issued
    "issued_token": None,  # the token the CPO presents to us after registration
    "cpo_token": None,  # the token we present to the CPO
    "cpo_versions_url": None,
    "cpo_endpoints": [],
    "cpo_roles": [],
    "received": [],  # every authenticated request to a module: method, path, body, headers
    "rejected": [],  # requests refused while "down" or with a bad token
    "down": False,
    "authorize": {},  # uid -> AllowedType
    "tokens": [],  # our drivers' tokens, for the CPO to pull
    "delay": 0,  # seconds each module request takes (a slow partner)
    "in_flight": 0,  # module requests being answered now
    "max_in_flight": 0,  # the most at once (how concurrently the CPO sends)
}


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(data=None, code=1000, message="Success"):
    body = {"status_code": code, "status_message": message, "timestamp": now()}
    if data is not None:
        body["data"] = data
    return body


def token_header(token: str) -> str:
    if VERSION == "2.1.1":
        return "Token " + token  # 2.1.1 sends the token as it is
    return "Token " + base64.b64encode(token.encode()).decode()


def token_of(header: str | None) -> str | None:
    """2.2.1: the token is base64-encoded (this peer is strict about it); 2.1.1: as it is."""
    if not header or not header.startswith("Token "):
        return None
    if VERSION == "2.1.1":
        return header[6:].strip()
    try:
        return base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


def outbound(method: str, url: str, token: str, body=None):
    parts = urlsplit(url)
    target = os.environ.get("PEER_CONNECT_TO")
    real_url = url
    headers = {
        "Authorization": token_header(token),
        "X-Request-ID": str(uuid.uuid4()),
        "X-Correlation-ID": str(uuid.uuid4()),
        "Content-Type": "application/json",
    }
    if target and parts.hostname not in ("127.0.0.1", "localhost"):
        real_url = parts._replace(netloc=target).geturl()
        headers["Host"] = parts.netloc
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(real_url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as failure:
        raw = failure.read() if failure.fp else b""
        try:
            return failure.code, dict(failure.headers), json.loads(raw or b"null")
        except ValueError:
            return failure.code, dict(failure.headers), raw.decode(errors="replace")


class Peer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    # --- plumbing ---
    def base(self) -> str:
        return f"http://{self.headers['Host']}/ocpi"

    def send_json(self, status: int, body, headers=None) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"null") if length else None

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")

    def do_PATCH(self):
        self.route("PATCH")

    def do_DELETE(self):
        self.route("DELETE")

    def route(self, method: str) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path.rstrip("/"), parse_qs(parts.query)
        body = self.read_body()
        if path.startswith("/_control/"):
            return self.control(method, path[len("/_control/") :], body)
        token = token_of(self.headers.get("Authorization"))
        with STATE_LOCK:
            down = STATE["down"]
            known = token is not None and (
                token == STATE["issued_token"] or token in STATE["registration_tokens"]
            )
            record = {
                "method": method,
                "path": path,
                "query": query,
                "body": body,
                "request_id": self.headers.get("X-Request-ID"),
                "correlation_id": self.headers.get("X-Correlation-ID"),
                "to": [self.headers.get(f"OCPI-to-{k}") for k in ("country-code", "party-id")],
                "from": [self.headers.get(f"OCPI-from-{k}") for k in ("country-code", "party-id")],
            }
            if down or not known:
                STATE["rejected"].append({**record, "down": down, "known": known})
        if down:
            return self.send_json(503, {"error": "maintenance"})
        if not known:
            return self.send_json(401, envelope(code=2000, message="Unknown token"))
        if path == "/ocpi/versions":
            return self.send_json(
                200, envelope([{"version": VERSION, "url": f"{self.base()}/{VERSION}"}])
            )
        if path == f"/ocpi/{VERSION}":
            return self.send_json(
                200, envelope({"version": VERSION, "endpoints": self.endpoints()})
            )
        if path == f"/ocpi/{VERSION}/credentials":
            return self.credentials(method, token, body)
        if token != STATE["issued_token"]:
            return self.send_json(401, envelope(code=2000, message="Not registered"))
        with STATE_LOCK:
            STATE["in_flight"] += 1
            STATE["max_in_flight"] = max(STATE["max_in_flight"], STATE["in_flight"])
            delay = STATE["delay"]
        try:
            if delay:
                time.sleep(delay)
            with STATE_LOCK:
                STATE["received"].append(record)
            return self.module(method, path, query, record)
        finally:
            with STATE_LOCK:
                STATE["in_flight"] -= 1

    def module(self, method: str, path: str, query, record) -> None:
        segments = path.split("/")[3:]  # after /ocpi/<version>
        if segments[:1] == ["tokens"] and method == "GET" and len(segments) == 1:
            return self.tokens_page(query)
        if segments[:1] == ["tokens"] and segments[-1:] == ["authorize"] and method == "POST":
            uid = segments[1]
            allowed = STATE["authorize"].get(uid)
            if allowed is None:
                return self.send_json(404, envelope(code=2004, message="Unknown token"))
            token_object = {
                "country_code": STATE["country_code"],
                "party_id": STATE["party_id"],
                "uid": uid,
                "type": query.get("type", ["RFID"])[0],
                "contract_id": f"NL-EMS-C{uid[:8]}",
                "issuer": "Peer eMSP",
                "valid": allowed == "ALLOWED",
                "whitelist": "NEVER",
                "last_updated": now(),
            }
            return self.send_json(
                200,
                envelope(
                    {
                        "allowed": allowed,
                        "token": token_object,
                        "authorization_reference": f"AUTH-{uid}",
                    }
                ),
            )
        return self.send_json(200, envelope())

    def tokens_page(self, query) -> None:
        """Our tokens, paginated (offset, limit, Link rel="next"), filtered on last_updated
        (date_from inclusive, date_to exclusive), oldest first."""

        def stamp(value):
            return datetime.fromisoformat(value.replace("Z", "+00:00"))

        with STATE_LOCK:
            tokens = sorted(STATE["tokens"], key=lambda t: (t["last_updated"], t["uid"]))
        if "date_from" in query:
            tokens = [t for t in tokens if stamp(t["last_updated"]) >= stamp(query["date_from"][0])]
        if "date_to" in query:
            tokens = [t for t in tokens if stamp(t["last_updated"]) < stamp(query["date_to"][0])]
        offset = int(query.get("offset", ["0"])[0])
        limit = min(int(query.get("limit", ["2"])[0]), 2)  # small pages: the CPO must follow
        headers = {"X-Total-Count": str(len(tokens)), "X-Limit": str(limit)}
        if offset + limit < len(tokens):
            rest = {k: v[0] for k, v in query.items() if k in ("date_from", "date_to")}
            rest.update(offset=str(offset + limit), limit=str(limit))
            link = f"{self.base()}/{VERSION}/tokens?" + "&".join(
                f"{k}={v}" for k, v in rest.items()
            )
            headers["Link"] = f'<{link}>; rel="next"'
        return self.send_json(200, envelope(tokens[offset : offset + limit]), headers)

    def endpoints(self):
        base = f"{self.base()}/{VERSION}"
        if VERSION == "2.1.1":  # no roles: one URL per module
            return [
                {"identifier": name, "url": f"{base}/{name}"}
                for name in ("credentials", "locations", "sessions", "cdrs", "tariffs", "tokens")
            ]
        return [
            {"identifier": "credentials", "role": "RECEIVER", "url": f"{base}/credentials"},
            {"identifier": "credentials", "role": "SENDER", "url": f"{base}/credentials"},
            {"identifier": "locations", "role": "RECEIVER", "url": f"{base}/locations"},
            {"identifier": "sessions", "role": "RECEIVER", "url": f"{base}/sessions"},
            {"identifier": "cdrs", "role": "RECEIVER", "url": f"{base}/cdrs"},
            {"identifier": "tariffs", "role": "RECEIVER", "url": f"{base}/tariffs"},
            {"identifier": "tokens", "role": "SENDER", "url": f"{base}/tokens"},
            {"identifier": "commands", "role": "SENDER", "url": f"{base}/commands"},
        ]

    def our_credentials(self, token: str):
        if VERSION == "2.1.1":
            return {
                "token": token,
                "url": f"{self.base()}/versions",
                "business_details": {"name": "Peer eMSP"},
                "country_code": STATE["country_code"],
                "party_id": STATE["party_id"],
            }
        return {
            "token": token,
            "url": f"{self.base()}/versions",
            "roles": [
                {
                    "role": "EMSP",
                    "country_code": STATE["country_code"],
                    "party_id": STATE["party_id"],
                    "business_details": {"name": "Peer eMSP"},
                }
            ],
        }

    def learn_cpo(self, versions_url: str, token: str) -> None:
        status, _, versions = outbound("GET", versions_url, token)
        if status != 200 or versions.get("status_code") != 1000:
            raise RuntimeError(f"versions: {status} {versions}")
        url = next(v["url"] for v in versions["data"] if v["version"] == VERSION)
        status, _, details = outbound("GET", url, token)
        if status != 200 or details.get("status_code") != 1000:
            raise RuntimeError(f"details: {status} {details}")
        STATE["cpo_endpoints"] = details["data"]["endpoints"]

    def credentials(self, method: str, token: str, body) -> None:
        registered = STATE["cpo_token"] is not None and token == STATE["issued_token"]
        if method == "GET":
            return self.send_json(200, envelope(self.our_credentials(token)))
        if method == "DELETE":
            if not registered:
                return self.send_json(405, envelope(code=2000, message="Not registered"))
            STATE.update(cpo_token=None, issued_token=None, cpo_endpoints=[])
            return self.send_json(200, envelope())
        if (method == "POST") == registered or method not in ("POST", "PUT"):
            return self.send_json(405, envelope(code=2000, message="Wrong method"))
        try:
            self.learn_cpo(body["url"], body["token"])
        except Exception as failure:  # noqa: BLE001
            return self.send_json(200, envelope(code=3001, message=str(failure)))
        new_token = "peer-C-" + secrets.token_hex(8)
        with STATE_LOCK:
            if token in STATE["registration_tokens"]:
                STATE["registration_tokens"].remove(token)
            STATE.update(
                cpo_token=body["token"],
                issued_token=new_token,
                cpo_versions_url=body["url"],
                cpo_roles=body.get("roles", []),
            )
        return self.send_json(200, envelope(self.our_credentials(new_token)))

    # --- control ---
    def control(self, method: str, name: str, body) -> None:
        if name == "state":
            with STATE_LOCK:
                return self.send_json(200, STATE)
        if name == "issue":
            STATE["registration_tokens"].append(body["token"])
            return self.send_json(200, {"ok": True})
        if name == "set":
            with STATE_LOCK:
                STATE.update(body)
            return self.send_json(200, {"ok": True})
        if name == "register":
            token_b = "peer-B-" + secrets.token_hex(8)
            try:
                self.learn_cpo(body["versions_url"], body["token"])
                details = STATE["cpo_endpoints"]
                url = next(
                    e["url"]
                    for e in details
                    if e["identifier"] == "credentials" and e.get("role", "RECEIVER") == "RECEIVER"
                )
                STATE["issued_token"] = token_b
                status, _, answer = outbound(
                    "POST", url, body["token"], self.our_credentials(token_b)
                )
                if status != 200 or answer.get("status_code") != 1000:
                    raise RuntimeError(f"POST credentials: {status} {answer}")
                STATE.update(
                    cpo_token=answer["data"]["token"],
                    cpo_versions_url=answer["data"]["url"],
                    cpo_roles=answer["data"].get("roles", []),
                )
                return self.send_json(200, {"ok": True, "error": None})
            except Exception as failure:  # noqa: BLE001
                return self.send_json(200, {"ok": False, "error": str(failure)})
        if name == "call":
            status, headers, answer = outbound(
                body["method"],
                body["url"],
                body.get("token") or STATE["cpo_token"],
                body.get("body"),
            )
            return self.send_json(200, {"status": status, "headers": headers, "body": answer})
        return self.send_json(404, {"error": "unknown control"})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Peer)
    server.daemon_threads = True
    print(f"listening on {args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
