"""OCPI 2.2.1 Tariff and CDR objects built from our tariffs and costs (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from apps.billing.engine import Tariff, TaxPolicy, TaxRate, compute_cost
from apps.billing.ocpi import cdr_from_cost, effective_tax_rate, tariff_to_ocpi

from .helpers import session

D = Decimal
UPDATED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GST_QST = TaxPolicy(
    (TaxRate("GST", "GST", D("0.05")), TaxRate("QST", "QST", D("0.09975"))),
)


def test_time_of_use_tariff_as_ocpi_elements():
    tariff = Tariff.from_dict(
        {
            "currency": "CAD",
            "session_fee": "1.00",
            "energy": [
                {
                    "price_per_kwh": "0.30",
                    "windows": [
                        {
                            "days": ["mon", "tue", "wed", "thu", "fri"],
                            "start": "16:00",
                            "end": "21:00",
                        }
                    ],
                },
                {"price_per_kwh": "0.20"},
            ],
            "time": [{"price_per_hour": "5.00", "from_minutes": 120}],
            "time_step_seconds": 900,
            "min_price": "2.00",
        }
    )
    ocpi = tariff_to_ocpi(
        tariff,
        tariff_id="T1",
        country_code="CA",
        party_id="CGR",
        last_updated=UPDATED,
        taxes=GST_QST,
    )
    assert ocpi["currency"] == "CAD" and ocpi["last_updated"] == "2026-03-01T12:00:00Z"
    flat, peak, base, late = ocpi["elements"]
    assert flat == {
        "price_components": [
            {"type": "FLAT", "price": D("1.0000"), "step_size": 1, "vat": D("14.9750")}
        ]
    }
    assert peak["restrictions"] == {
        "start_time": "16:00",
        "end_time": "21:00",
        "day_of_week": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"],
    }
    assert peak["price_components"][0]["type"] == "ENERGY"
    assert "restrictions" not in base  # the default element comes last
    assert late["restrictions"] == {"min_duration": 7200}
    assert [c["type"] for c in late["price_components"]] == ["TIME", "PARKING_TIME"]
    assert late["price_components"][0]["step_size"] == 900
    assert ocpi["min_price"] == {"excl_vat": D("2.0000"), "incl_vat": D("2.2995")}


def test_an_overnight_window_becomes_two_ocpi_restrictions():
    tariff = Tariff.from_dict(
        {
            "currency": "EUR",
            "energy": [
                {
                    "price_per_kwh": "0.10",
                    "windows": [{"days": ["sun"], "start": "22:00", "end": "06:00"}],
                },
                {"price_per_kwh": "0.25"},
            ],
        }
    )
    ocpi = tariff_to_ocpi(
        tariff, tariff_id="N", country_code="FR", party_id="CGR", last_updated=UPDATED
    )
    assert [e.get("restrictions") for e in ocpi["elements"]] == [
        {"start_time": "22:00", "day_of_week": ["SUNDAY"]},
        {"start_time": "00:00", "end_time": "06:00", "day_of_week": ["MONDAY"]},
        None,
    ]


def test_prices_with_vat_included_are_published_without_it():
    tariff = Tariff.from_dict({"currency": "EUR", "energy": [{"price_per_kwh": "0.42"}]})
    vat = TaxPolicy((TaxRate("VAT", "TVA", D("0.20")),), prices_include_tax=True)
    ocpi = tariff_to_ocpi(
        tariff, tariff_id="V", country_code="FR", party_id="CGR", last_updated=UPDATED, taxes=vat
    )
    component = ocpi["elements"][0]["price_components"][0]
    assert component == {
        "type": "ENERGY",
        "price": D("0.3500"),
        "step_size": 1,
        "vat": D("20.0000"),
    }


def test_free_tariff_is_a_zero_flat_element_and_idle_grace_is_explained():
    free = tariff_to_ocpi(
        Tariff.from_dict({"currency": "CAD"}),
        tariff_id="F",
        country_code="CA",
        party_id="CGR",
        last_updated=UPDATED,
    )
    assert free["elements"] == [
        {"price_components": [{"type": "FLAT", "price": D("0.0000"), "step_size": 1}]}
    ]
    idle = tariff_to_ocpi(
        Tariff.from_dict(
            {
                "currency": "CAD",
                "idle": {"price_per_hour": "10", "grace_minutes": 15, "max_amount": "25.00"},
            }
        ),
        tariff_id="I",
        country_code="CA",
        party_id="CGR",
        last_updated=UPDATED,
    )
    assert idle["elements"][0]["price_components"][0]["type"] == "PARKING_TIME"
    texts = " ".join(t["text"] for t in idle["tariff_alt_text"])
    assert "15 minutes" in texts and "25.00 CAD" in texts


def test_cdr_totals_match_the_receipt():
    tariff = Tariff.from_dict(
        {
            "currency": "CAD",
            "session_fee": "1.00",
            "energy": [{"price_per_kwh": "0.25"}],
            "idle": {"price_per_hour": "12.00", "grace_minutes": 15},
        }
    )
    timeline = session(
        "2026-03-02 16:00", "2026-03-02 18:30", energy_wh=20_000, charging_until="2026-03-02 18:00"
    )
    cost = compute_cost(tariff, timeline, GST_QST)
    cdr = cdr_from_cost(
        cost,
        cdr_id="CDR-1",
        country_code="CA",
        party_id="CGR",
        session_id="42",
        started_at=timeline.started_at,
        ended_at=timeline.ended_at,
        cdr_token={
            "country_code": "CA",
            "party_id": "CGR",
            "uid": "04A1B2",
            "type": "RFID",
            "contract_id": "CA-CGR-1",
        },
        cdr_location={"id": "S1", "country": "CAN", "evse_uid": "S1-1", "connector_id": "1"},
        last_updated=UPDATED,
        tariff_id="T1",
    )
    # 1.00 + 5.00 + 3.00 (15 min idle billed) = 9.00; taxes 0.45 + 0.90.
    assert cdr["total_cost"] == {"excl_vat": D("9.0000"), "incl_vat": D("10.3500")}
    assert cdr["total_energy"] == D("20.0000")
    assert cdr["total_time"] == D("2.5000") and cdr["total_parking_time"] == D("0.5000")
    assert cdr["total_energy_cost"]["excl_vat"] == D("5.0000")
    assert cdr["total_parking_cost"]["excl_vat"] == D("3.0000")
    assert cdr["start_date_time"] == "2026-03-02T21:00:00Z"
    energy = sum(
        d["volume"]
        for p in cdr["charging_periods"]
        for d in p["dimensions"]
        if d["type"] == "ENERGY"
    )
    assert energy == D("20.0000")
    kinds = [[d["type"] for d in p["dimensions"]] for p in cdr["charging_periods"]]
    assert kinds == [["ENERGY", "TIME"], ["PARKING_TIME"], ["PARKING_TIME"]]


def test_effective_rate_of_compound_taxes():
    compound = TaxPolicy(
        (TaxRate("GST", "GST", D("0.05")), TaxRate("PST", "PST", D("0.095"), compound=True))
    )
    assert effective_tax_rate(compound) == D("0.14975")
