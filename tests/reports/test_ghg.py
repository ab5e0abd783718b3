"""Greenhouse gas avoided, against hand-computed cases: the method, the tenant's factors and a
site's own grid factor."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from apps.reports import ghg, selectors
from apps.reports.models import GhgSettings, SiteEmissionFactor
from apps.roles.selectors import UserActor


def test_hand_computed():
    # 10 kWh: 50 km not driven × 205.6 g/km = 10,280 g, minus 10 kWh × 110 g/kWh = 1,100 g.
    assert ghg.avoided_g(10_000, ghg.Factors()) == 9_180
    quebec = ghg.Factors(grid_g_per_kwh=Decimal("1.7"))
    assert ghg.avoided_g(10_000, quebec) == 10_263
    coal = ghg.Factors(grid_g_per_kwh=Decimal("1100"))
    assert ghg.avoided_g(10_000, coal) == -720  # not clipped: the grid can be worse
    assert ghg.avoided_g(1, ghg.Factors()) == 1  # 1.028 - 0.11 = 0.918 → 1 (half up)
    assert ghg.avoided_g(0, ghg.Factors()) == 0


@pytest.mark.django_db
def test_report_uses_each_sites_factor(alpha, personas, month):
    a1, a2 = month
    GhgSettings.objects.all().delete()  # a live test may have committed its own (rolled back)
    GhgSettings.objects.create()  # the defaults, stored
    SiteEmissionFactor.objects.create(site=a1.site, grid_g_per_kwh=Decimal("2"), source="test")
    report = selectors.report_build(
        actor=UserActor(personas.owner),
        start=dt.date(2026, 11, 1),
        end=dt.date(2026, 12, 1),
        site_ids=[a1.site.pk, a2.site.pk],
    )
    rows = {row.key: row.ghg_avoided_g for row in report.rows}
    # A1: 28.625 kWh → 143.125 km × 205.6 = 29,426.5 g − 28.625 × 2 = 57.25 g → 29,369 g.
    # A2: 31 kWh → 155 km × 205.6 = 31,868 g − 31 × 110 = 3,410 g → 28,458 g.
    assert rows == {a1.site.pk: 29_369, a2.site.pk: 28_458}
    assert report.ghg_avoided_g == 29_369 + 28_458
    # October: A1's 5 kWh → 25 km × 205.6 = 5,140 − 10 = 5,130 g.
    assert report.previous_ghg_avoided_g == 5_130
