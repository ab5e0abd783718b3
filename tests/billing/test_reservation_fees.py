"""The tariff's optional reservation component (issue 15): its JSON form, the engine's lines
(outside the minimum and maximum price), the fingerprint, the editor and the price in words."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.billing.engine import (
    LINE_NO_SHOW,
    LINE_RESERVATION,
    CarriedFee,
    ReservationFees,
    Tariff,
    TariffError,
    TaxPolicy,
    TaxRate,
    compute_cost,
    inputs_digest,
)
from apps.billing.forms import TariffEditor
from apps.billing.pricing_text import describe_tariff

from .helpers import session

TARIFF = {
    "currency": "CAD",
    "energy": [{"price_per_kwh": "0.25"}],
    "max_price": "3.00",
    "reservation": {"fee": "1.00", "no_show_fee": "5.00"},
}


def test_the_component_reads_and_writes_back():
    tariff = Tariff.from_dict(TARIFF)
    assert tariff.reservation == ReservationFees(Decimal("1.00"), Decimal("5.00"))
    assert Tariff.from_dict(tariff.to_dict()) == tariff
    only_no_show = Tariff.from_dict({"currency": "CAD", "reservation": {"no_show_fee": "2.50"}})
    assert only_no_show.reservation == ReservationFees(Decimal(0), Decimal("2.50"))
    assert only_no_show.is_free  # charging itself is free


@pytest.mark.parametrize(
    ("reservation", "problem"),
    [
        ({"fee": 1.0}, "reservation.fee"),  # a float
        ({"fee": "1.005"}, "reservation.fee"),  # finer than the cent
        ({"no_show_fee": "-1.00"}, "reservation.no_show_fee: cannot be negative"),
        ({"fees": "1.00"}, "reservation: unknown field 'fees'"),
        ("1.00", "reservation: an object"),
    ],
)
def test_bad_components_are_refused_with_their_field(reservation, problem):
    with pytest.raises(TariffError) as error:
        Tariff.from_dict({"currency": "CAD", "reservation": reservation})
    assert any(p.startswith(problem) for p in error.value.problems), error.value.problems


def test_a_reserved_session_pays_the_fee_outside_the_maximum_and_is_taxed():
    tariff = Tariff.from_dict(TARIFF)
    # 20 kWh at 0.25 = 5.00, capped at 3.00; the reservation fee comes on top: 4.00
    timeline = session("2026-03-02 10:00", "2026-03-02 12:00", energy_wh=20_000)
    reserved = type(timeline)(**{**_fields(timeline), "reserved": True})
    taxes = TaxPolicy(rates=(TaxRate("GST", "GST", Decimal("0.05")),))
    plain = compute_cost(tariff, timeline, taxes)
    result = compute_cost(tariff, reserved, taxes)
    assert plain.subtotal == Decimal("3.00")
    assert [(x.kind, x.amount) for x in result.lines][-1] == (LINE_RESERVATION, Decimal("1.00"))
    assert result.subtotal == Decimal("4.00")
    assert result.taxes[0].amount == Decimal("0.20")
    assert result.total == Decimal("4.20")
    assert sum(x.amount for x in result.lines) == result.subtotal


def test_carried_no_show_fees_are_lines_of_the_receipt():
    tariff = Tariff.from_dict({"currency": "CAD", "reservation": {"no_show_fee": "5.00"}})
    timeline = session("2026-03-02 10:00", "2026-03-02 11:00", energy_wh=1_000)
    carried = (CarriedFee(LINE_NO_SHOW, "No-show fee: port held at P1", Decimal("5.00"), "k1"),)
    result = compute_cost(tariff, type(timeline)(**{**_fields(timeline), "carried": carried}))
    assert [(x.kind, x.amount) for x in result.lines] == [
        ("free", Decimal("0.00")),
        (LINE_NO_SHOW, Decimal("5.00")),
    ]
    assert result.total == Decimal("5.00")


def test_the_fingerprint_changes_only_for_reserved_or_carried_sessions():
    tariff = Tariff.from_dict(TARIFF)
    timeline = session("2026-03-02 10:00", "2026-03-02 11:00", energy_wh=1_000)
    base = inputs_digest(tariff, timeline)
    assert inputs_digest(tariff, type(timeline)(**_fields(timeline))) == base
    assert inputs_digest(tariff, type(timeline)(**{**_fields(timeline), "reserved": True})) != base


def test_the_editor_shows_and_keeps_the_fees():
    assert TariffEditor.representable(Tariff.from_dict(TARIFF).to_dict(), "CAD") == ""
    editor = TariffEditor(currency="CAD", definition=Tariff.from_dict(TARIFF).to_dict())
    data = editor.as_data()
    data["no_show_fee"] = "7.50"
    edited = TariffEditor(currency="CAD", data=data)
    assert edited.is_valid(), edited.problems
    assert edited.definition["reservation"] == {"fee": "1.00", "no_show_fee": "7.50"}


def test_the_price_in_words_names_the_fees():
    text = describe_tariff(Tariff.from_dict(TARIFF))
    assert "reservation 1.00 CAD" in text and "no-show 5.00 CAD" in text


def _fields(timeline) -> dict:
    return {name: getattr(timeline, name) for name in type(timeline).__slots__}
