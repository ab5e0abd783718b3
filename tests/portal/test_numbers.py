"""Numbers in the reader's locale: decimal commas and a thousands separator in French, a comma
and a point in English, in the portal's filters, the tariff summaries and on a page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from apps.billing.engine import Tariff
from apps.billing.pricing_text import describe_tariff
from tests.portal.factories import make_session

NBSP = "\xa0"


def render(text: str, language: str, **context) -> str:
    with translation.override(language):
        return Template("{% load portal billing %}" + text).render(Context(context))


@pytest.mark.parametrize(
    "language,expected",
    [("en", "1,010.119 kWh"), ("fr", f"1{NBSP}010,119 kWh")],
)
def test_energy_has_a_thousands_separator(language, expected):
    assert render("{{ wh|kwh }}", language, wh=1_010_119) == expected


@pytest.mark.parametrize(
    "language,template,value,expected",
    [
        ("en", "{{ v|kw }}", 22_000, "22.00 kW"),
        ("fr", "{{ v|kw }}", 1_250_000, f"1{NBSP}250,00 kW"),
        ("fr", "{{ v|percent }}", 99.5, "99,50 %"),
        ("fr", "{{ v|grouped }}", 10_000, f"10{NBSP}000"),
        ("en", "{{ v|grouped }}", 10_000, "10,000"),
        ("en", "{{ v|grouped:1 }}", Decimal("0.05"), "0.1"),  # half up, not cut off
        ("fr", '{{ v|money:"CAD" }}', Decimal("12345.6700"), f"12{NBSP}345,67 CAD"),
        ("fr", "{{ v|percent_of_fraction }}", Decimal("0.09975"), "9,975 %"),
        ("en", "{{ v|percent_of_fraction }}", Decimal("0.05"), "5 %"),
    ],
)
def test_filters_follow_the_locale(language, template, value, expected):
    assert render(template, language, v=value) == expected


def test_empty_values_read_as_a_dash():
    assert render("{{ v|grouped }} {{ v|kwh }}", "fr", v=None) == "— —"


TARIFF = {
    "currency": "CAD",
    "session_fee": "1.5",
    "energy": [{"price_per_kwh": "0.2345"}],
    "time": [{"price_per_hour": "1200"}],
    "max_price": "40.00",
}


def test_tariff_summary_in_french_uses_decimal_commas():
    tariff = Tariff.from_dict(TARIFF)
    with translation.override("fr"):
        text = describe_tariff(tariff)
    assert text.startswith("1,50 CAD par session; 0,2345 CAD/kWh; "), text
    assert f"1{NBSP}200,00 CAD/h" in text and "max. 40,00 CAD" in text
    assert "0.2345" not in text and "1.50" not in text


def test_tariff_summary_in_english_keeps_points():
    with translation.override("en"):
        text = describe_tariff(Tariff.from_dict(TARIFF))
    assert text == "1.50 CAD per session; 0.2345 CAD/kWh; 1,200.00 CAD/h; max 40.00 CAD"


def test_station_page_in_french_groups_energy(network, personas, client_for):
    make_session(network.a1_station, token="BIG-TOKEN", energy_wh=1_010_119)
    client = client_for(personas.owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    html = client.get(reverse("stations:station_detail", args=[network.a1_station.pk]))
    html = html.content.decode()
    assert f"1{NBSP}010,119 kWh" in html or "1&nbsp;010,119 kWh" in html
    assert "1010.119" not in html and "1,010.119" not in html
