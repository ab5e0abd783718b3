"""The PDF summary and the session breakdowns: the PDF's text read back with pypdf (English and
French, scoped to a delegate's site, the vehicle breakdown only when a fleet app answers), and
the breakdowns against hand-computed cases."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db.models import F
from pypdf import PdfReader

from apps.access.models import AccessGroup
from apps.charging.models import ChargingSession, IdToken
from apps.core import policies
from apps.reports import selectors
from apps.roles.selectors import UserActor
from tests.api.conftest import api_client

pytestmark = pytest.mark.django_db

NOVEMBER = {"start": "2026-11-01", "end": "2026-12-01"}


@pytest.fixture
def sessions(month):
    """The month's sessions with their energy, one of A1's idle for its last 30 minutes and
    with a token of the "Night shift" group."""
    ChargingSession.objects.update(energy_wh=F("meter_stop_wh") - F("meter_start_wh"))
    a1, a2 = month
    nov10 = ChargingSession.objects.get(evse=a1.port, transaction_id__endswith="-2")
    nov10.charging_ended_at = nov10.ended_at - dt.timedelta(minutes=30)
    nov10.token = IdToken.objects.create(uid="CARD-1")
    nov10.save()
    AccessGroup.objects.create(name="Night shift").tokens.add(nov10.token)
    return a1, a2, nov10


def _text(response) -> tuple[str, int]:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(text.split()), len(reader.pages)  # lines joined: wrapping is layout


def test_breakdowns_by_duration_idle_and_group(personas, sessions):
    a1, _a2, nov10 = sessions
    result = selectors.breakdowns_build(
        actor=UserActor(personas.owner),
        start=dt.date(2026, 11, 1),
        end=dt.date(2026, 12, 1),
        site_ids=[a1.site.pk],
    )
    bands = {row.key: (row.sessions, row.energy_wh) for row in result.by_duration}
    # Three two-hour sessions started in November: 12 + 8 + 9 kWh (the October one is out).
    assert bands["2h-4h"] == (3, 29_000)
    assert sum(sessions for sessions, _wh in bands.values()) == 3
    idle = {row.key: (row.sessions, row.idle_seconds) for row in result.by_idle}
    assert idle["none"] == (2, 0) and idle["15m-1h"] == (1, 1800)
    groups = [(row.label, row.sessions, row.energy_wh) for row in result.by_group]
    assert groups == [("Night shift", 1, 8000), ("no group", 2, 21_000)]
    assert result.by_vehicle is None  # no fleet app answers


def test_the_pdf_summary_in_english(client_for, personas, sessions):
    a1, a2, _nov10 = sessions
    response = client_for(personas.owner).get("/reports/summary.pdf", NOVEMBER)
    text, pages = _text(response)
    assert pages >= 2
    for expected in (
        "Report summary",
        "Headline figures",
        "Energy per day (kWh)",
        "Session duration",
        "2 to 4 h",
        "Idle time",
        "Night shift",
        "Methods",
        "planned maintenance",
        "205.6 g/km",
        a1.site.name,
        a2.site.name,
    ):
        assert expected in text, expected
    assert "28.6" in text and "31.0" in text  # the sites' November energy, kWh (test_api)
    assert "Vehicle" not in text


def test_the_pdf_summary_in_french_for_a_delegate(client_for, personas, sessions):
    a1, a2, _nov10 = sessions
    french = client_for(personas.delegate)
    french.cookies["django_language"] = "fr"  # the portal's language switch
    text, _pages = _text(french.get("/reports/summary.pdf", NOVEMBER))
    assert "Synthèse du rapport" in text and "Durée des sessions" in text
    assert "28,6" in text  # A1's 28.625 kWh, French decimals
    assert a1.site.name in text and a2.site.name not in text


def test_the_vehicle_breakdown_shows_when_a_fleet_app_answers(client_for, personas, sessions):
    _a1, _a2, nov10 = sessions

    def vehicles(*, session_ids):
        return {nov10.pk: {"id": 7, "label": "Van 7"}} if nov10.pk in session_ids else {}

    policies.register(policies.SESSION_VEHICLES, vehicles)
    try:
        text, _pages = _text(client_for(personas.owner).get("/reports/summary.pdf", NOVEMBER))
    finally:
        policies.unregister(policies.SESSION_VEHICLES, vehicles)
    assert "Vehicle" in text and "Van 7" in text and "unknown vehicle" in text


def test_a_bad_period_is_refused(client_for, personas, month):
    response = client_for(personas.owner).get("/reports/summary.pdf", {"start": "nope"})
    assert response.status_code == 400


def test_the_report_page_shows_the_breakdowns(client_for, personas, sessions):
    a1, _a2, _nov10 = sessions
    client = client_for(personas.owner)
    client.cookies["django_language"] = "fr"
    page = client.get("/reports/", {**NOVEMBER, "site": a1.site.pk}).content.decode()
    assert "Sessions en détail" in page
    group = page.split('data-breakdown="group"')[1].split("</table>")[0]
    assert "Night shift" in group and "sans groupe" in group
    duration = page.split('data-breakdown="duration"')[1].split("</table>")[0]
    assert "<td>2 à 4 h</td><td>3</td>" in duration
    assert 'data-breakdown="vehicle"' not in page  # no fleet app answers
    assert 'id="export-pdf"' in page


# --- The API: a site's breakdowns and PDF summary (same period and scoping as the reports) ---
def test_the_api_breakdowns_of_a_site(alpha, personas, sessions):
    a1, a2, nov10 = sessions
    owner = api_client(alpha, user=personas.owner)
    response = owner.get(f"/api/v1/reports/sites/{a1.site.pk}/breakdowns/", NOVEMBER)
    assert response.status_code == 200
    body = response.json()
    assert (body["site"], body["start"], body["end"]) == (a1.site.pk, *NOVEMBER.values())
    bands = {row["key"]: (row["sessions"], row["energy_wh"]) for row in body["by_duration"]}
    assert bands["2h-4h"] == (3, 29_000) and sum(n for n, _wh in bands.values()) == 3
    two_hours = next(row for row in body["by_duration"] if row["key"] == "2h-4h")
    assert two_hours["average_minutes"] == 120 and two_hours["energy_per_session_wh"] == 9666
    idle = {row["key"]: row for row in body["by_idle"]}
    assert idle["15m-1h"]["sessions"] == 1 and idle["15m-1h"]["average_idle_minutes"] == 30
    group = AccessGroup.objects.get(name="Night shift")
    assert [(r["key"], r["label"], r["sessions"]) for r in body["by_group"]] == [
        (str(group.pk), "Night shift", 1),
        (None, "no group", 2),
    ]
    assert body["by_vehicle"] is None  # no fleet app answers
    # A2's sessions are A2's: its own breakdown holds its two, none of A1's group.
    other = owner.get(f"/api/v1/reports/sites/{a2.site.pk}/breakdowns/", NOVEMBER).json()
    assert sum(row["sessions"] for row in other["by_duration"]) == 2
    assert [row["label"] for row in other["by_group"]] == ["no group"]


def test_the_api_breakdowns_refuse_a_bad_period_with_field_errors(alpha, personas, sessions):
    a1, _a2, _nov10 = sessions
    owner = api_client(alpha, user=personas.owner)
    url = f"/api/v1/reports/sites/{a1.site.pk}/breakdowns/"
    response = owner.get(url, {"start": "2026-11-10", "end": "2026-11-01"})
    assert response.status_code == 400
    assert response.json()["error"]["details"].keys() == {"end"}
    assert owner.get(url, {"start": "nope"}).json()["error"]["details"].keys() == {"start"}


def test_the_api_pdf_summary_of_a_site(alpha, personas, sessions):
    a1, a2, _nov10 = sessions
    owner = api_client(alpha, user=personas.owner)
    url = f"/api/v1/reports/sites/{a1.site.pk}/summary/"
    response = owner.get(url, NOVEMBER)
    assert "inline" in response["Content-Disposition"]
    text, _pages = _text(response)
    assert "Report summary" in text and "Night shift" in text and a1.site.name in text
    assert a2.site.name not in text  # only the site asked for
    assert "28.6" in text and a1.station.identity in text  # its stations' rows by default
    by_port, _pages = _text(owner.get(url, {**NOVEMBER, "rows": "port"}))
    assert "By port" in by_port
    # A client asking for PDF gets it, in the language the API speaks to it (the language
    # cookie, else the tenant's).
    owner.cookies["django_language"] = "fr"
    asked = owner.get(url, NOVEMBER, HTTP_ACCEPT="application/pdf")
    french, _pages = _text(asked)
    assert "Synthèse du rapport" in french and "28,6" in french


def test_the_api_pdf_summary_refuses_bad_input_in_json(alpha, personas, sessions):
    a1, a2, _nov10 = sessions
    url = f"/api/v1/reports/sites/{a1.site.pk}/summary/"
    owner = api_client(alpha, user=personas.owner)
    response = owner.get(url, {**NOVEMBER, "rows": "site"})
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert response.json()["error"]["details"].keys() == {"rows"}
    # The delegate (A1 only) gets A1's summary and nothing of A2.
    delegate = api_client(alpha, user=personas.delegate)
    assert delegate.get(f"/api/v1/reports/sites/{a2.site.pk}/summary/", NOVEMBER).status_code == 404
    text, _pages = _text(delegate.get(url, NOVEMBER))
    assert a1.site.name in text
