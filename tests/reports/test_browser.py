"""The report pages in a real browser (Debian's Chromium through Playwright) against a real
server process and a real Celery worker: the owner's report with its chart and table (desktop
and 375 px), a delegate's report holding only their site, and an XLSX export followed by its
progress bar until the download link appears."""

from __future__ import annotations

import datetime as dt
import uuid
import zipfile
from io import BytesIO

import pytest
from django_tenants.utils import tenant_context
from pypdf import PdfReader

from tests.browser.conftest import page_errors
from tests.live import blocking
from tests.workers import WorkerProcess

from .conftest import build_place

pytestmark = pytest.mark.slow

PERIOD = "start=2026-11-01&end=2026-12-01"


@pytest.fixture
def fleet(live_db):
    tag = uuid.uuid4().hex[:6].upper()

    def create():
        from apps.accounts.services import user_create
        from apps.reports.services import rollup_rebuild
        from apps.roles.services import role_assign, role_by_slug
        from apps.stations.services import site_create
        from apps.tenants.models import Tenant
        from tests.conftest import PASSWORD

        tenant = Tenant.objects.get(slug="alpha")
        with tenant_context(tenant):
            mine = site_create(name=f"Report garage {tag}", timezone="America/Montreal")
            theirs = site_create(name=f"Report depot {tag}", timezone="America/Montreal")
            a = build_place(mine, f"RB-{tag}-A", [(dt.date(2026, 11, d), 9, 7000) for d in (3, 9)])
            b = build_place(theirs, f"RB-{tag}-B", [(dt.date(2026, 11, 4), 12, 2000)])
            rollup_rebuild(
                start=dt.datetime(2026, 10, 31, tzinfo=dt.UTC),
                end=dt.datetime(2026, 12, 2, tzinfo=dt.UTC),
                evse_ids=[a.port.pk, b.port.pk],
                now=dt.datetime(2026, 12, 2, tzinfo=dt.UTC),
            )
            email = f"reports-{tag.lower()}@partner.test"
            delegate = user_create(email=email, password=PASSWORD)
            role_assign(user=delegate, role=role_by_slug("delegate-reports"), sites=[mine])
        return tenant.get_primary_domain().domain, mine, theirs, email

    return blocking(create)


@pytest.fixture
def worker(live_db):
    process = blocking(lambda: WorkerProcess("reports").start())
    yield process
    blocking(process.stop)


def test_report_pages_and_an_export(sign_in, portal_server, fleet, worker):
    host, mine, theirs, delegate_email = fleet
    base = f"http://{host}:{portal_server.port}"

    page = sign_in(host, "owner@alpha.test")
    page.goto(f"{base}/reports/?{PERIOD}&group_by=site")
    page.wait_for_selector("#report-chart[data-drawn='1'] canvas")
    assert page.locator(f"#report-table tr[data-key='{mine.pk}']").count() == 1
    assert page.locator(f"#report-table tr[data-key='{theirs.pk}']").count() == 1
    mine_row = page.locator(f"#report-table tr[data-key='{mine.pk}'] td").all_inner_texts()
    assert mine_row[1] == "14.000 kWh" and mine_row[3] == "2"
    # On a phone: the cards, the form and the chart fit the width (the table scrolls inside
    # its card).  The shared header is the base layout's business, not measured here.
    page.set_viewport_size({"width": 375, "height": 800})
    page.reload()
    page.wait_for_selector("#report-chart[data-drawn='1'] canvas")
    widest = page.evaluate(
        "Math.max(...Array.from(document.querySelectorAll("
        "'main > *, main .card, #report-chart canvas, #report-form'))"
        ".map(e => e.getBoundingClientRect().right))"
    )
    assert widest <= 375, widest
    page.set_viewport_size({"width": 1360, "height": 900})

    # An XLSX of the garage's quarter hours, prepared in the background.
    page.goto(f"{base}/reports/?{PERIOD}&site={mine.pk}")
    page.select_option("#export-grain", "15min")
    page.select_option("#export-format", "xlsx")
    page.click("#export-form button[type=submit]")
    page.wait_for_url("**/reports/exports/*/")
    assert page.locator("progress").count() == 1
    link = page.locator("a.download:not([hidden])")
    link.wait_for(timeout=60_000)
    assert page.locator("progress").get_attribute("value") == "100"
    with page.expect_download() as info:
        link.click()
    with zipfile.ZipFile(BytesIO(open(info.value.path(), "rb").read())) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert sheet.count("<row ") == 1 + 721 * 4  # one port, November's quarter hours
    assert "RB-" in sheet and theirs.name not in sheet
    assert page_errors(page) == []

    # The delegated reporting partner sees their site only.
    other = sign_in(host, delegate_email)
    other.goto(f"{base}/reports/?{PERIOD}")
    other.wait_for_selector("#report-table")
    assert other.locator(f"#report-table tr[data-key='{mine.pk}']").count() == 1
    assert other.locator(f"#report-table tr[data-key='{theirs.pk}']").count() == 0
    assert theirs.name not in other.content()


def test_the_capacity_planner_page(sign_in, portal_server, fleet):
    """The planner's answer, its assumptions and its chart, on a desktop and on a phone."""
    host, mine, _theirs, _delegate = fleet
    base = f"http://{host}:{portal_server.port}"
    page = sign_in(host, "owner@alpha.test")
    query = f"{PERIOD}&site={mine.pk}&limit_kw=8&min_kw=2&wanted_ports=4"
    page.goto(f"{base}/reports/capacity/?{query}")
    page.wait_for_selector("#capacity-chart[data-drawn='1'] canvas")
    # One session at a time at 3.5 kW: 8 kW feeds 4 sessions of 2 kW, a 4th new port is one
    # too many.
    assert page.locator("#needs-upgrade").count() == 1
    assert page.locator("[data-measure='fit'] .big").inner_text() == "3"
    assert page.locator("#assumptions li").count() == 5
    page.set_viewport_size({"width": 375, "height": 800})
    page.reload()
    page.wait_for_selector("#capacity-chart[data-drawn='1'] canvas")
    widest = page.evaluate(
        "Math.max(...Array.from(document.querySelectorAll("
        "'main > *, main .card, #capacity-chart canvas, #capacity-form'))"
        ".map(e => e.getBoundingClientRect().right))"
    )
    assert widest <= 375, widest
    assert page_errors(page) == []


def test_the_breakdowns_show_and_the_pdf_link_downloads(sign_in, portal_server, fleet):
    """The report page's session breakdowns for the garage (its two two-hour sessions, no
    group), and its PDF link saving the summary of that site only."""
    host, mine, theirs, _delegate = fleet
    base = f"http://{host}:{portal_server.port}"
    page = sign_in(host, "owner@alpha.test")
    page.goto(f"{base}/reports/?{PERIOD}&site={mine.pk}")
    section = page.locator("#breakdowns")
    section.wait_for()
    assert section.is_visible()
    duration = {
        cells[0]: cells[1]
        for cells in (
            row.locator("td").all_inner_texts()
            for row in page.locator("table[data-breakdown='duration'] tbody tr").all()
        )
    }
    assert duration["2 to 4 h"] == "2" and duration["under 30 min"] == "0"
    group = page.locator("table[data-breakdown='group'] tbody tr")
    assert group.count() == 1
    assert group.locator("td").all_inner_texts()[:2] == ["no group", "2"]
    assert page.locator("table[data-breakdown='vehicle']").count() == 0

    with page.expect_download() as info:
        page.click("#export-pdf")
    download = info.value
    assert download.suggested_filename == "report-2026-11-01-2026-12-01.pdf"
    content = open(download.path(), "rb").read()
    assert content.startswith(b"%PDF-")
    reader = PdfReader(BytesIO(content))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert "Report summary" in text and "Session duration" in text and mine.name in text
    assert theirs.name not in text
    assert page_errors(page) == []


def test_the_report_settings_page_on_a_phone(sign_in, portal_server, fleet):
    """The site admin's settings page fits 375 px and saves."""
    host, _mine, _theirs, _delegate = fleet
    base = f"http://{host}:{portal_server.port}"
    page = sign_in(host, "owner@alpha.test")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{base}/reports/settings/")
    widest = page.evaluate(
        "Math.max(...Array.from(document.querySelectorAll("
        "'main > *, #report-settings, #report-settings select, #report-settings input'))"
        ".map(e => e.getBoundingClientRect().right))"
    )
    assert widest <= 375, widest
    before = page.input_value("#id_rules-uptime_offline")
    after = "excluded" if before == "down" else "down"
    page.select_option("#id_rules-uptime_offline", after)
    page.click("#report-settings button[type=submit]")
    page.wait_for_url("**/reports/settings/")
    assert "Report settings saved." in page.content()
    assert page.input_value("#id_rules-uptime_offline") == after
    page.select_option("#id_rules-uptime_offline", before)  # the shared tenant as it was
    page.click("#report-settings button[type=submit]")
    page.wait_for_url("**/reports/settings/")
    assert page_errors(page) == []

    def forget():
        # The saved rows are committed: later tests of the process expect a tenant with none.
        from apps.reports.models import GhgSettings, ReportSettings
        from apps.tenants.models import Tenant

        with tenant_context(Tenant.objects.get(slug="alpha")):
            ReportSettings.objects.all().delete()
            GhgSettings.objects.all().delete()

    blocking(forget)
