"""The driver page on a phone (375 px, real Chromium, the real ASGI server) follows the queue
live through its websocket: the driver ahead leaves, then a port is held for the driver, and
the page says so without a reload and without polling."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from tests.browser.conftest import Network, page_errors, portal_url, watch_errors
from tests.live import blocking

pytestmark = pytest.mark.slow


def make_queue(network: Network) -> dict:
    from apps.charging.services import token_create
    from apps.waitlist import services, views
    from apps.waitlist.models import WaitlistGroup

    with tenant_context(network.tenant):
        group = WaitlistGroup.objects.create(site=network.site_a, name="Level 1", hold_minutes=10)
        group.stations.set([network.station_a])
        ahead_uid = f"AHEAD{network.tag}"
        token_create(uid=ahead_uid)
        ahead = services.entry_join(group=group, token_uid=ahead_uid, via="api", check_access=False)
        mine = services.entry_join(
            group=group, token_uid=network.token, via="api", check_access=False
        )
        return {"ahead": ahead.pk, "mine": mine.pk, "link": views.driver_link(mine)}


def leave(network: Network, entry_id: int) -> None:
    from apps.waitlist import services
    from apps.waitlist.models import WaitlistEntry

    with tenant_context(network.tenant):
        services.entry_leave(entry=WaitlistEntry.objects.get(pk=entry_id))


def free_the_port(network: Network) -> int | None:
    from apps.stations.models import Evse, Station
    from apps.waitlist import services

    with tenant_context(network.tenant):
        Station.objects.filter(pk=network.station_a.pk).update(is_online=True)
        evse = Evse.objects.filter(station=network.station_a).order_by("evse_id").first()
        Evse.objects.filter(pk=evse.pk).update(status="Available")
        entry = services.port_promote(evse_pk=evse.pk)
        return entry.pk if entry else None


def test_the_driver_page_follows_the_queue_live_on_a_phone(network, portal_server, browser):
    queue = blocking(lambda: make_queue(network))
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="en")
    page = context.new_page()
    watch_errors(page)
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(portal_url(network, portal_server, queue["link"]))
    page.wait_for_selector("#waitlist-place[data-live]", timeout=10_000)
    place = page.locator("#waitlist-place")
    assert "You are number 2" in place.inner_text()
    page.evaluate("window.__sameDocument = true")
    requests.clear()

    blocking(lambda: leave(network, queue["ahead"]))
    # (no wait_for_function: the page's CSP forbids evaluating strings)
    page.locator("#waitlist-place", has_text="You are number 1").wait_for(timeout=10_000)
    assert blocking(lambda: free_the_port(network)) == queue["mine"]
    page.locator("#waitlist-place", has_text="is held for you until").wait_for(timeout=10_000)
    assert network.station_a.name in place.inner_text()
    assert page.evaluate("window.__sameDocument") is True  # updated in place
    assert requests == []  # pushed: no request (no polling, no reload) since the page loaded
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # fits the phone
    assert page_errors(page) == []
    context.close()
