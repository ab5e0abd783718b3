"""The report page and its exports: totals against the previous period, a table per site,
a delegate's page and files holding only their site, the streamed CSV and the background
XLSX export (its progress, its file, only for its requester)."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest

from apps.reports import services
from apps.reports.models import ExportJob

pytestmark = pytest.mark.django_db

NOVEMBER = {"start": "2026-11-01", "end": "2026-12-01"}


def test_the_owner_sees_every_site_and_the_comparison(client_for, personas, month):
    a1, a2 = month
    client = client_for(personas.owner)
    response = client.get("/reports/", NOVEMBER)
    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-key="{a1.site.pk}"' in page and f'data-key="{a2.site.pk}"' in page
    row = re.search(rf'data-key="{a2.site.pk}">(.*?)</tr>', page).group(1)
    assert "31.000 kWh" in row  # two sessions
    # One site's totals (other tests may have committed other sites): November against
    # October, 12 + 8 + 8.625 kWh (see test_api) against 5 kWh.
    page = client.get("/reports/", {**NOVEMBER, "site": a1.site.pk}).content.decode()
    totals = re.search(r'data-measure="energy">(.*?)</section>', page).group(1)
    assert "28.625 kWh" in totals and "5.000 kWh" in totals and "+472.5 %" in totals
    # CO2e avoided with the default factors (tests/reports/test_ghg.py): 28,625 Wh → 26.3 kg.
    ghg = re.search(r'data-measure="ghg">(.*?)</section>', page).group(1)
    assert "26.3 kg" in ghg and 'id="ghg-method"' in page and "205.6 g/km" in page
    assert 'id="report-chart"' in page


def test_a_delegate_sees_only_their_site(client_for, personas, month):
    a1, a2 = month
    page = client_for(personas.delegate).get("/reports/", NOVEMBER).content.decode()
    assert f'data-key="{a1.site.pk}"' in page
    assert f'data-key="{a2.site.pk}"' not in page
    assert a2.site.name not in page  # not even in the site filter


def test_someone_without_the_permission_is_refused(client_for, personas, month):
    assert client_for(personas.outsider).get("/reports/").status_code == 403


def test_the_csv_is_streamed_and_scoped(client_for, personas, month):
    a1, _ = month
    response = client_for(personas.delegate).get("/reports/export/", NOVEMBER)
    assert response.status_code == 200 and response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["Day", "Site", "Station", "Port"]
    assert {row[1] for row in rows[1:]} == {a1.site.name}
    assert len(rows) == 1 + 30  # one port, thirty local days
    energy = rows[0].index("energy_wh")
    assert sum(int(row[energy]) for row in rows[1:]) == a1.energy_wh - (9000 - 9000 * 23 // 24)


def _xlsx_rows(path) -> int:
    with zipfile.ZipFile(path) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    return len(re.findall(r"<row ", sheet))


def test_a_background_xlsx_export(client_for, personas, month, django_capture_on_commit_callbacks):
    a1, _ = month
    client = client_for(personas.owner)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(
            "/reports/export/",
            {**NOVEMBER, "site": a1.site.pk, "grain": "15min", "format": "xlsx"},
        )
    assert response.status_code == 302 and len(queued) == 1  # the task, after commit
    job = ExportJob.objects.filter(requested_by=personas.owner).order_by("-pk").first()
    assert client.get(response["Location"]).status_code == 200
    assert client.get(f"/reports/exports/{job.pk}/status/").json()["progress"] == 0

    assert services.export_job_run(job_id=job.pk) == "done"
    assert services.export_job_run(job_id=job.pk) == "skipped"  # a second delivery: nothing
    state = client.get(f"/reports/exports/{job.pk}/status/").json()
    assert state["status"] == "done" and state["progress"] == 100
    download = client.get(state["download_url"])
    assert download.status_code == 200
    path = io.BytesIO(b"".join(download.streaming_content))
    # One port, 721 hours of quarter hours (the 25-hour day), and the header.
    assert _xlsx_rows(path) == 1 + 721 * 4

    # Someone else cannot fetch it, even a person who may see reports.
    other = client_for(personas.fleet_manager)
    assert other.get(f"/reports/exports/{job.pk}/download/").status_code == 404
    assert other.get(f"/reports/exports/{job.pk}/status/").status_code == 404


def test_the_page_speaks_french(client_for, personas, month):
    from django.conf import settings

    client = client_for(personas.owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    page = client.get("/reports/", NOVEMBER).content.decode()
    assert "Rapports" in page and "Période précédente" in page and "Énergie par jour" in page
