"""A remote start in a real browser (issue 13): the page answers at once ("sent, waiting for
the station"), then follows live, without a reload, as a Celery worker gets the station's
answer and the station starts the session."""

from __future__ import annotations

import pytest

from apps.simulator.physics import Vehicle
from tests.browser.conftest import page_errors, portal_url
from tests.browser.test_portal import simulated, wait_live
from tests.live import blocking
from tests.workers import WorkerProcess

pytestmark = pytest.mark.slow


@pytest.mark.xfail(
    run=False,
    reason="in the whole suite (and on some machines alone) the worker started here never "
    "receives the queued remote start; under investigation in issue 13's note",
)
def test_a_remote_start_answers_at_once_then_follows_live(network, portal_server, sign_in, loop):
    from config.celery import app as celery_app

    blocking(celery_app.control.purge)  # nothing left over from other tests
    station = simulated(network, portal_server, loop)
    worker = None
    try:
        assert loop.run(station.connect()) == "Accepted"
        loop.run(station.plug_in(1, Vehicle(soc=30)))
        page = sign_in(network.host, "owner@alpha.test")
        page.goto(portal_url(network, portal_server, f"/stations/{network.station_a.pk}/"))
        wait_live(page)
        page.on("dialog", lambda dialog: dialog.accept())
        page.evaluate("window.__sameDocument = true")
        page.select_option("#id_remote_start-evse_id", "1")
        page.fill("#id_remote_start-id_token", network.token)
        page.click("form[data-command=remote_start] button[type=submit]")
        # No worker yet: the page answers at once, the station has heard nothing.
        pending = page.wait_for_selector("#command-result .outcome.pending", timeout=10_000)
        assert pending.get_attribute("data-status") == "Sent"
        assert "waiting for the station" in pending.inner_text()
        assert not station.calls_received("RemoteStartTransaction")

        worker = blocking(lambda: WorkerProcess("remote-start").start())
        outcome = page.wait_for_selector(
            "#command-result .outcome[data-status=Started]", timeout=60_000
        )
        assert "The session started." in outcome.inner_text()
        assert "ok" in (outcome.get_attribute("class") or "")
        assert station.calls_received("RemoteStartTransaction")
        # The session's panel came with it, live.
        page.wait_for_selector(".power-chart[data-session]", timeout=15_000)
        assert page.evaluate("window.__sameDocument") is True
        assert page_errors(page) == []
    finally:
        if worker is not None:
            blocking(worker.stop)
        loop.run(station.close())


def test_a_refused_remote_start_is_shown_live(network, portal_server, sign_in):
    """The station is offline: the worker's answer ("never connected") replaces "sent"."""
    from config.celery import app as celery_app

    blocking(celery_app.control.purge)
    worker = blocking(lambda: WorkerProcess("remote-start-offline").start())
    try:
        page = sign_in(network.host, "owner@alpha.test")
        page.goto(portal_url(network, portal_server, f"/stations/{network.station_a.pk}/"))
        wait_live(page)
        page.on("dialog", lambda dialog: dialog.accept())
        page.select_option("#id_remote_start-evse_id", "1")
        page.fill("#id_remote_start-id_token", network.token)
        page.click("form[data-command=remote_start] button[type=submit]")
        outcome = page.wait_for_selector("#command-result .outcome.failed", timeout=60_000)
        assert "never connected" in outcome.inner_text()
        assert page_errors(page) == []
    finally:
        blocking(worker.stop)
