"""The tour: every portal page, as each persona, in real Chromium.

Each persona starts on the dashboard and follows the links the portal shows them (plus every
page of the URL configuration that takes no argument), visiting each URL pattern once.  The
tour fails on any response >= 500 (the page itself or what it loads: htmx fragments, JSON,
static files), on any uncaught script error or console error, and on a link the portal shows
a persona that leads to a page they may not see (403/404).  The owner also walks the portal
on a phone (375 px), where no page may be wider than the screen.
"""

from __future__ import annotations

import os
import pprint
import re
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django_tenants.utils import tenant_context

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_screenshots import seed_demo
from tests.conftest import PASSWORD
from tests.live import blocking

pytestmark = pytest.mark.slow

# Not pages: the API, OCPI, the platform operator's admin, language switch, downloads.
SKIP_PREFIXES = (
    "/api/",
    "/drivers/api/",
    # the drivers' finder lists stations from a per-process snapshot refreshed within 60 s: a
    # station another test just deleted may still be linked (tests/drivers covers these pages)
    "/drivers/stations/",
    "/ocpi/",
    "/admin/",
    "/i18n/",
    "/ocpp/",
    "/static/",
    "/media/",
)
SKIP_ROUTES = ("accounts/logout/", "healthz", "favicon.ico")
SKIP_SUFFIXES = (".csv", ".xlsx", ".pdf", ".zip", ".json", ".xml", ".txt", ".png")
MAX_PAGES = 200
PHONE_WIDTH = 375
LINKS = "a[href]:not([download])"

# (persona, role slug, on all sites?) — None: the tenant's owner, who exists already.
PERSONAS = (
    ("owner", None, True),
    ("site-admin", "site-admin", False),
    ("delegate", "delegate-configure", False),
    ("reports-delegate", "delegate-reports", False),
    ("fleet-manager", "fleet-manager", True),
    ("valet", "valet", False),
    ("viewer", "viewer", True),
)


@dataclass
class Visit:
    path: str
    route: str
    status: int
    found_on: str


@dataclass
class Findings:
    visits: list[Visit] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    forbidden_links: list[str] = field(default_factory=list)
    too_wide: list[str] = field(default_factory=list)

    def problems(self) -> dict:
        return {
            name: value
            for name, value in (
                ("server errors", self.server_errors),
                ("console errors", self.console_errors),
                ("links to pages refused", self.forbidden_links),
                ("wider than a phone", self.too_wide),
            )
            if value
        }


def _static_routes() -> list[str]:
    """Every portal path of the tenant URL configuration that takes no argument."""
    paths: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.pattern.regex.groupindex:
                    continue
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                if entry.pattern.regex.groupindex or any(c in route for c in "^$(<["):
                    continue
                paths.append("/" + route)

    walk(get_resolver().url_patterns, "")
    return sorted({p for p in paths if _is_page(p)})


def _is_page(path: str) -> bool:
    if not path.startswith("/") or path.startswith(SKIP_PREFIXES):
        return False
    if path.endswith(SKIP_SUFFIXES) or "export" in path or "download" in path:
        return False
    return True


def _slug(route: str) -> str:
    """A file name for a URL pattern: ``stations/<int:pk>/edit/`` -> ``stations-pk-edit``."""
    words = re.sub(r"<(?:\w+:)?(\w+)>", r"\1", route).strip("/").replace(".", "-")
    return re.sub(r"[^\w-]+", "-", words) or "home"


def _route_of(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    if match.route in SKIP_ROUTES:
        return None
    return match.route


def _create_personas(network, tag: str) -> dict[str, str]:
    from apps.accounts.services import user_create
    from apps.roles.services import role_assign, role_by_slug

    emails = {}
    with tenant_context(network.tenant):
        for name, slug, all_sites in PERSONAS:
            if slug is None:
                emails[name] = "owner@alpha.test"
                continue
            email = f"tour-{name}-{tag.lower()}@alpha.test"
            user = user_create(email=email, password=PASSWORD)
            role_assign(
                user=user,
                role=role_by_slug(slug),
                all_sites=all_sites,
                sites=[] if all_sites else [network.site_a],
            )
            emails[name] = email
    return emails


def _tour(
    browser,
    base: str,
    email: str,
    *,
    width: int = 1366,
    locale: str = "en",
    shots: Path | None = None,
) -> Findings:
    from playwright.sync_api import Error as PlaywrightError

    findings = Findings()
    context = browser.new_context(viewport={"width": width, "height": 900}, locale=locale)
    page = context.new_page()
    current = {"path": "login"}
    documents: dict[str, int] = {}

    def on_console(message):
        source = (message.location or {}).get("url", "")
        if "Failed to load resource" in message.text:
            if source and not source.startswith(base):
                return  # map tiles from the internet, which test machines cannot reach
            if 400 <= documents.get(source, 0) < 500:
                return  # a page refused (403, 404, 405): judged by its visit, below
        if message.type == "error":
            where = f" [{source[len(base) :]}]" if source.startswith(base) else ""
            findings.console_errors.append(f"{current['path']}: {message.text}{where}")

    def on_response(response):
        if response.request.is_navigation_request():
            documents[response.url] = response.status
        if response.status >= 500 and response.url.startswith(base):
            findings.server_errors.append(
                f"{current['path']}: {response.status} {response.url[len(base) :]}"
            )

    page.on("console", on_console)
    page.on(
        "pageerror", lambda error: findings.console_errors.append(f"{current['path']}: {error}")
    )
    page.on("response", on_response)
    try:
        page.goto(f"{base}/accounts/login/")
        page.fill("#id_username", email)
        page.fill("#id_password", PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_url("**/dashboard/")
        # The portal's language is the one chosen in its menu (kept for the session), not the
        # browser's: choose it as a person would.
        if page.locator("form.lang select[name=language]").input_value() != locale:
            with page.expect_navigation():
                page.select_option("form.lang select[name=language]", locale)

        seen: set[str] = {r for r in (_route_of("/accounts/logout/"),) if r}
        queue: deque[tuple[str, str]] = deque([("/dashboard/", "start")])
        queue.extend((path, "url configuration") for path in _static_routes())
        while queue and len(findings.visits) < MAX_PAGES:
            path, found_on = queue.popleft()
            route = _route_of(urlsplit(path).path)
            if route is None or route in seen:
                continue
            seen.add(route)
            current["path"] = path
            try:
                response = page.goto(base + path)
                status = response.status if response else 0
            except PlaywrightError:
                # An error status with an empty body (e.g. 405 for a POST-only URL): Chromium
                # shows no document, and the status is the one its response listener heard.
                status = documents.get(base + path, 0)
            findings.visits.append(Visit(path, route, status, found_on))
            if status in (403, 404) and found_on != "url configuration":
                findings.forbidden_links.append(f"{path} ({status}), linked from {found_on}")
            if status >= 400:
                continue
            # Let the page's scripts run (charts, htmx fragments).
            page.wait_for_timeout(150)
            if shots is not None:
                shots.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shots / f"{_slug(route)}.png"), full_page=True)
            if width <= PHONE_WIDTH:
                scroll = page.evaluate("document.documentElement.scrollWidth")
                if scroll > width:
                    findings.too_wide.append(f"{path}: {scroll} px")
            try:
                hrefs = page.eval_on_selector_all(LINKS, "links => links.map(a => a.href)")
            except PlaywrightError:
                # The page went on by itself (a form that submits when it loads, a redirect
                # by script): read the links of where it went.
                page.wait_for_load_state("load")
                findings.visits[-1].route += f" -> {page.url}"
                hrefs = page.eval_on_selector_all(LINKS, "links => links.map(a => a.href)")
            for href in hrefs:
                if not href.startswith(base):
                    continue
                parts = urlsplit(href)
                target = parts.path + (f"?{parts.query}" if parts.query else "")
                if _is_page(parts.path) and _route_of(parts.path) not in seen:
                    queue.append((target, path))
    finally:
        context.close()
    return findings


@pytest.fixture
def tour_network(network):
    tag = uuid.uuid4().hex[:4].upper()
    blocking(lambda: seed_demo(network.tenant, tag))
    emails = blocking(lambda: _create_personas(network, tag))
    return network, emails


@pytest.mark.timeout(600)
def test_tour_every_page_as_every_persona(browser, portal_server, tour_network):
    network, emails = tour_network
    base = f"http://{network.host}:{portal_server.port}"
    report = {}
    routes_seen = {}
    walks = [(name, email, 1366, "en") for name, email in emails.items()]
    walks += [("owner (fr, phone)", emails["owner"], PHONE_WIDTH, "fr")]
    only = os.environ.get("CHARGEGRID_TOUR_ONLY")
    for name, email, width, locale in walks:
        if only and name != only:
            continue
        started = time.monotonic()
        findings = _tour(browser, base, email, width=width, locale=locale)
        print(f"tour: {name}: {len(findings.visits)} pages in {time.monotonic() - started:.1f} s")
        routes_seen[name] = {visit.route for visit in findings.visits if visit.status < 400}
        if findings.problems():
            report[name] = findings.problems()
    assert report == {}, pprint.pformat(report, width=110)
    if only:
        return
    # The tour went somewhere: the owner sees far more than the valet, who sees the board.
    assert len(routes_seen["owner"]) >= 30, sorted(routes_seen["owner"])
    assert "valet/" in routes_seen["valet"], sorted(routes_seen["valet"])
    assert "stations/<int:pk>/" in routes_seen["delegate"], sorted(routes_seen["delegate"])
    assert len(routes_seen["valet"]) < len(routes_seen["owner"])


VARIANTS = (
    ("en-desktop", 1366, "en"),
    ("en-phone", PHONE_WIDTH, "en"),
    ("fr-desktop", 1366, "fr"),
    ("fr-phone", PHONE_WIDTH, "fr"),
)


@pytest.mark.skipif(
    os.environ.get("CHARGEGRID_UPDATE_SCREENSHOTS") != "1",
    reason="bin/screenshots regenerates docs/screenshots/pages/ (CHARGEGRID_UPDATE_SCREENSHOTS=1)",
)
@pytest.mark.timeout(900)
def test_screenshots_of_every_page(browser, portal_server, tour_network):
    """Every page the owner sees, EN and FR, desktop (1366x900) and phone (375 px), into
    docs/screenshots/pages/<variant>/<url pattern>.png, taken on the demo network."""
    network, emails = tour_network
    base = f"http://{network.host}:{portal_server.port}"
    for variant, width, locale in VARIANTS:
        folder = SCREENSHOTS / "pages" / variant
        for old in folder.glob("*.png"):
            old.unlink()
        findings = _tour(browser, base, emails["owner"], width=width, locale=locale, shots=folder)
        assert len(list(folder.glob("*.png"))) >= 30, variant
        assert findings.server_errors == [], findings.server_errors
