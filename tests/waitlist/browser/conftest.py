"""The browser suite's fixtures (real Chromium, a real ASGI server) for the driver page."""

from tests.browser.conftest import (  # noqa: F401 - fixtures
    browser,
    live_db,
    loop,
    network,
    portal_server,
    sign_in,
)
