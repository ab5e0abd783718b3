"""The report settings page (site admins): the uptime definition, the raw retention and the
greenhouse gas factors saved, used by the next report, refused with field errors when wrong,
shown in French, and closed to everyone without ``reports.manage`` on every site."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from apps.reports import selectors
from apps.reports.models import GhgSettings, ReportSettings

pytestmark = pytest.mark.django_db

URL = "/reports/settings/"
GOOD = {
    "rules-uptime_unavailable": "down",
    "rules-uptime_offline": "excluded",
    "rules-raw_retention_days": "30",
    "ghg-baseline_g_per_km": "180.5",
    "ghg-ev_kwh_per_km": "0.180",
    "ghg-grid_g_per_kwh": "35",
}


def test_the_owner_saves_the_rules_and_the_factors(client_for, personas):
    client = client_for(personas.owner)
    page = client.get(URL).content.decode()
    assert 'name="rules-uptime_unavailable"' in page and 'name="ghg-grid_g_per_kwh"' in page
    assert 'value="90"' in page and 'value="205.6"' in page  # the defaults until saved
    response = client.post(URL, GOOD)
    assert response.status_code == 302 and response["Location"] == URL
    rules, factors = ReportSettings.objects.get(), GhgSettings.objects.get()
    assert (rules.uptime_unavailable, rules.uptime_offline) == ("down", "excluded")
    assert rules.raw_retention_days == 30
    assert factors.grid_g_per_kwh == Decimal("35") and factors.ev_kwh_per_km == Decimal("0.180")
    assert selectors.uptime_rule() == selectors.UptimeRule("down", "excluded")
    assert selectors.ghg_factors()[0].baseline_g_per_km == Decimal("180.5")
    # Saved again: still one row each.
    client.post(URL, {**GOOD, "rules-raw_retention_days": "400"})
    assert ReportSettings.objects.get().raw_retention_days == 400
    assert GhgSettings.objects.count() == 1
    assert "Report settings saved." in client.get(URL).content.decode()


def test_wrong_values_are_refused_with_their_field_errors(client_for, personas):
    client = client_for(personas.owner)
    response = client.post(
        URL,
        {
            **GOOD,
            "rules-uptime_offline": "up",  # offline is down or excluded, never up
            "rules-raw_retention_days": "3",
            "ghg-ev_kwh_per_km": "0",
        },
    )
    assert response.status_code == 200
    rules, ghg = response.context["rules"], response.context["ghg"]
    assert set(rules.errors) == {"uptime_offline", "raw_retention_days"}
    assert set(ghg.errors) == {"ev_kwh_per_km"}
    assert not ReportSettings.objects.exists() and not GhgSettings.objects.exists()


def test_the_page_in_french(client_for, personas):
    client = client_for(personas.owner)
    client.cookies["django_language"] = "fr"
    page = client.get(URL).content.decode()
    assert "Paramètres des rapports" in page and "Gaz à effet de serre évités" in page
    assert "Valeurs brutes des compteurs" in page


def test_only_site_admins_reach_it(client_for, personas):
    # The delegate reads A1's reports (reports.view) but changes no tenant-wide rule.
    assert client_for(personas.delegate).get(URL).status_code == 403
    assert client_for(personas.delegate).post(URL, GOOD).status_code == 403
    assert client_for(personas.outsider).get(URL).status_code == 403
    anonymous = client_for(None).get(URL)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(
        reverse("accounts:login")
    )
    assert not ReportSettings.objects.exists()
    # The report page links to it for the owner only.
    assert 'id="settings-link"' in client_for(personas.owner).get("/reports/").content.decode()
    assert (
        'id="settings-link"' not in client_for(personas.delegate).get("/reports/").content.decode()
    )
