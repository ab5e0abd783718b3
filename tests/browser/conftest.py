"""Real headless Chromium (Debian's package, driven by Playwright) against a real ASGI server
on the test database, with stations simulated by ``apps.simulator``."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django_tenants.utils import tenant_context

from tests.conftest import PASSWORD
from tests.live import LoopThread, ServerProcess, blocking

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Tenants are told apart by host name; they all live on this machine.
    "--host-resolver-rules=MAP *.localhost 127.0.0.1",
]
# The README's pictures are refreshed only when asked (CHARGEGRID_UPDATE_SCREENSHOTS=1);
# otherwise every test run would rewrite tracked files.
SCREENSHOTS = Path(settings.BASE_DIR) / (
    "docs/screenshots"
    if os.environ.get("CHARGEGRID_UPDATE_SCREENSHOTS") == "1"
    else "var/screenshots"
)


@pytest.fixture(scope="session")
def live_db(django_db_setup, django_db_blocker):
    """Committed data (the server process must see it); names are unique per run."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture(scope="session")
def portal_server(live_db):
    # Static files are served by WhiteNoise from STATIC_ROOT when DEBUG is off, as in
    # production: collect them first.
    blocking(lambda: call_command("collectstatic", interactive=False, verbosity=0))
    server = blocking(lambda: ServerProcess("portal").start())
    yield server
    server.stop()


# Per module: the sync Playwright API runs an event loop in this thread while it is started,
# and async tests elsewhere (pytest-asyncio) need the thread free again.
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: apt-get install -y chromium")
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def loop():
    thread = LoopThread()
    yield thread
    thread.stop()


@dataclass
class Network:
    tenant: object
    host: str
    tag: str
    site_a: object
    site_b: object
    station_a: object
    station_b: object
    password_a: str
    token: str
    delegate_email: str


@pytest.fixture
def network(live_db):
    """Two sites far apart with one station each (offline, never connected), a token, and a
    delegate of site A only."""
    tag = uuid.uuid4().hex[:6].upper()
    password = f"pw-{tag.lower()}-0123456789"
    # The sync Playwright API runs an event loop in this thread: ORM work goes to a thread.
    return blocking(lambda: _create_network(tag, password))


def _create_network(tag: str, password: str) -> Network:
    from apps.accounts.services import user_create
    from apps.charging.services import token_create
    from apps.roles.services import role_assign, role_by_slug
    from apps.stations.services import site_create, station_register
    from apps.tenants.models import Tenant

    tenant = Tenant.objects.get(slug="alpha")
    with tenant_context(tenant):
        site_a = site_create(
            name=f"Browser Montréal {tag}",
            latitude="45.508900",
            longitude="-73.561700",
            timezone="America/Montreal",
            city="Montréal",
        )
        site_b = site_create(
            name=f"Browser Vancouver {tag}",
            latitude="49.282700",
            longitude="-123.120700",
            timezone="America/Vancouver",
            city="Vancouver",
        )
        station_a = station_register(
            identity=f"BR-{tag}-A", password=password, site=site_a, name=f"Old Port {tag}"
        )
        station_b = station_register(identity=f"BR-{tag}-B", password=password, site=site_b)
        token = f"BRTAG{tag}"
        token_create(uid=token, label="Browser driver")
        delegate_email = f"delegate-{tag.lower()}@installer.test"
        delegate = user_create(email=delegate_email, password=PASSWORD)
        role_assign(user=delegate, role=role_by_slug("delegate-configure"), sites=[site_a])
    return Network(
        tenant=tenant,
        host=tenant.get_primary_domain().domain,
        tag=tag,
        site_a=site_a,
        site_b=site_b,
        station_a=station_a,
        station_b=station_b,
        password_a=password,
        token=token,
        delegate_email=delegate_email,
    )


@pytest.fixture
def sign_in(browser, portal_server):
    """A new browser page signed in as ``email`` on the tenant's host."""
    contexts = []

    def open_page(host: str, email: str):
        context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="en")
        contexts.append(context)
        page = context.new_page()
        watch_errors(page)
        page.goto(f"http://{host}:{portal_server.port}/accounts/login/")
        page.fill("#id_username", email)
        page.fill("#id_password", PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_url("**/dashboard/")
        return page

    yield open_page
    for context in contexts:
        context.close()


PAGE_ERRORS: dict[int, list[str]] = {}


def watch_errors(page) -> None:
    """Remember the page's uncaught script errors (``page_errors(page)``)."""
    errors = PAGE_ERRORS.setdefault(id(page), [])
    page.on("pageerror", lambda error: errors.append(str(error)))


def page_errors(page) -> list[str]:
    return PAGE_ERRORS.get(id(page), [])


def portal_url(network: Network, server: ServerProcess, path: str) -> str:
    return f"http://{network.host}:{server.port}{path}"
