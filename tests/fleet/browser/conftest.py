"""The browser suite's fixtures (real Chromium, a real ASGI server) for the fleet pages."""

from tests.browser.conftest import (  # noqa: F401 - fixtures
    browser,
    live_db,
    loop,
    network,
    portal_server,
    sign_in,
)
