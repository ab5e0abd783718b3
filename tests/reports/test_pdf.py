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
