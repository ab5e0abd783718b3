"""A bulk command in a real browser: from the station list filtered by a tag, the command
form, its confirmation, then the job's page following each station's outcome live as a
Celery worker sends the commands (issue 13, "Bulk actions ... with a progress view")."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from tests.browser.conftest import page_errors, portal_url
from tests.live import blocking
from tests.workers import WorkerProcess

pytestmark = pytest.mark.slow


def _tag(network, tag: str) -> None:
    from apps.stations.models import Station

    with tenant_context(network.tenant):
        Station.objects.filter(pk__in=[network.station_a.pk, network.station_b.pk]).update(
            tags=[tag]
        )


def test_reset_a_tagged_list_and_follow_it_live(network, portal_server, sign_in):
    from config.celery import app as celery_app

    tag = f"bulk-{network.tag.lower()}"
    blocking(celery_app.control.purge)  # nothing left over from other tests
    blocking(lambda: _tag(network, tag))
    page = sign_in(network.host, "owner@alpha.test")
    page.goto(portal_url(network, portal_server, f"/stations/?tag={tag}"))
    assert page.locator("table.stations tbody tr").count() == 2
    page.click("#bulk-link")
    page.wait_for_selector("#bulk-count[data-count='2']")
    page.select_option("#id_command", "reset_soft")
    dialogs = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.click("form.bulk-form button[type=submit]")
    page.wait_for_selector("#bulk-job")
    assert dialogs and "2 stations" in dialogs[0]
    page.wait_for_selector("#live-indicator.live", timeout=10_000)
    assert page.locator("#bulk-done").inner_text() == "0"  # queued: no worker yet
    page.evaluate("window.__sameDocument = true")

    worker = blocking(lambda: WorkerProcess("bulk").start())
    try:
        # Both stations are offline: each outcome is a failure, and arrives live.
        page.wait_for_function(
            "() => document.getElementById('bulk-done').textContent == '2'", timeout=60_000
        )
    finally:
        blocking(worker.stop)
    assert page.locator("#bulk-failed").inner_text() == "2"
    assert page.evaluate("document.getElementById('bulk-progress').value") == 2
    rows = page.locator("table.bulk-items tr[data-status='failed']")
    assert rows.count() == 2
    assert "never connected" in rows.first.inner_text()  # the command service's word
    assert page.evaluate("window.__sameDocument") is True
    assert page_errors(page) == []
