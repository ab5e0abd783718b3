"""The reports API: measures per site for a period against the previous one, computed from the
rollups; a delegate's report holds only their site; the 15-minute load profile."""

from __future__ import annotations

import pytest

from tests.api.conftest import api_client, results

pytestmark = pytest.mark.django_db

NOVEMBER = {"start": "2026-11-01", "end": "2026-12-01"}


def test_site_report_against_the_previous_period(alpha, personas, month):
    a1, a2 = month
    response = api_client(alpha, user=personas.owner).get("/api/v1/reports/sites/", NOVEMBER)
    assert response.status_code == 200
    rows = {row["site"]: row for row in results(response)}
    # A1's last session runs 22:00-24:00 on Nov 30: its readings up to midnight count in November;
    # the stop (midnight, December 1st local) belongs to December.
    a1_row = rows[a1.site.pk]
    assert a1_row["measures"]["sessions_started"] == 3
    assert a1_row["measures"]["sessions_ended"] == 2
    last_step = 9000 - 9000 * 23 // 24  # the increase reported at the stop
    assert a1_row["measures"]["energy_wh"] == 12000 + 8000 + 9000 - last_step
    assert a1_row["previous"]["energy_wh"] == 5000  # October
    assert a1_row["previous"]["sessions_started"] == 1
    # 30 days of November, with the 25-hour day: 721 hours, all online.
    assert a1_row["measures"]["seconds_total"] == 721 * 3600
    assert a1_row["measures"]["seconds_occupied"] == 3 * 7200  # three whole sessions
    assert a1_row["measures"]["uptime_percent"] == "100.0"
    assert rows[a2.site.pk]["measures"]["energy_wh"] == 31000
    assert rows[a2.site.pk]["measures"]["energy_per_session_wh"] == 15500


def test_a_delegate_sees_only_their_sites_rows(alpha, personas, month):
    a1, _ = month
    response = api_client(alpha, user=personas.delegate).get("/api/v1/reports/stations/", NOVEMBER)
    assert response.status_code == 200
    rows = results(response)
    assert [row["station"] for row in rows] == [a1.station.pk]


def test_load_profile_is_the_quarter_hours_of_the_site(alpha, personas, month):
    a1, _ = month
    response = api_client(alpha, user=personas.owner).get(
        f"/api/v1/reports/sites/{a1.site.pk}/load-profile/",
        {"start": "2026-11-10", "end": "2026-11-11"},
    )
    assert response.status_code == 200
    quarters = response.json()["quarters"]
    assert len(quarters) == 96
    assert sum(q["energy_wh"] for q in quarters) == 8000
    busy = [q for q in quarters if q["energy_wh"]]
    assert len(busy) == 9  # 17:00-19:00 local, and the stop reading at 19:00
    assert all(q["average_power_w"] == q["energy_wh"] * 4 for q in quarters)


def test_a_bad_period_is_a_400(alpha, personas, month):
    response = api_client(alpha, user=personas.owner).get(
        "/api/v1/reports/sites/", {"start": "2026-11-10", "end": "2026-11-01"}
    )
    assert response.status_code == 400
