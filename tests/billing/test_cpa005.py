"""CPA Standard 005 payout files: the writer checked by an independent strict reader, the
reader checked against broken files, and a tenant's payout built in its chosen format."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from apps.billing import services
from apps.billing.bankfiles.cpa005 import Credit, Originator, build_cpa005, julian
from apps.billing.bankfiles.pain001 import BankFileError
from apps.billing.choices import BankFileFormat, PayoutStatus
from apps.billing.models import Payout
from tests.api.conftest import api_client

from .conftest import PAYOUT_DEBTOR, record_session
from .cpa005_check import Cpa005Invalid, check_cpa005
from .helpers import at

D = Decimal
FEBRUARY = date(2026, 2, 1)
AFTER_FEBRUARY = at("2026-03-02 09:00")  # a Monday
CPA_DEBTOR = {
    **PAYOUT_DEBTOR,
    "cpa005_originator_id": "CGPLAT0001",
    "cpa005_data_centre": "00310",
    "cpa005_short_name": "CHARGEGRID",
}
ORIGINATOR = Originator.from_mapping(CPA_DEBTOR)


def credits(count: int) -> list[Credit]:
    return [
        Credit(
            amount=D(f"{100 + n}.{n % 100:02d}"),
            payee_name=f"Garage Numéro {n}",
            payee_institution="081500001",
            payee_account=f"{7654321 + n}",
            cross_reference=f"CG-{n}-202602",
            sundry="PAYOUT 2026-02",
        )
        for n in range(count)
    ]


def build(count: int, **overrides) -> bytes:
    arguments = {
        "originator": ORIGINATOR,
        "file_number": 42,
        "created_on": date(2026, 3, 2),
        "due": date(2026, 3, 2),
        "currency": "CAD",
        "credits": credits(count),
    }
    return build_cpa005(**{**arguments, **overrides})


@pytest.mark.parametrize(("count", "c_records"), [(1, 1), (6, 1), (7, 2), (12, 2), (13, 3)])
def test_credits_are_packed_six_to_a_record_and_the_trailer_adds_up(count, c_records):
    data = build(count)
    parsed = check_cpa005(data)
    assert parsed.credit_records == c_records
    assert len(data) == (c_records + 2) * (1464 + 2)
    assert parsed.originator_id == "CGPLAT0001" and parsed.file_number == "0042"
    assert parsed.created_on == date(2026, 3, 2) and parsed.currency == "CAD"
    assert parsed.data_centre == "00310"
    expected = credits(count)
    assert [p.cents for p in parsed.payments] == [int(c.amount * 100) for c in expected]
    assert [p.account for p in parsed.payments] == [c.payee_account for c in expected]
    first = parsed.payments[0]
    assert first.payee_name == "GARAGE NUMERO 0"  # plain upper-case ASCII
    assert first.institution == "081500001" and first.transaction_type == "460"
    assert first.return_institution == "000112345" and first.return_account == "1234567"
    assert first.due == date(2026, 3, 2) and first.cross_reference == "CG-0-202602"


def test_julian_dates():
    assert julian(date(2026, 1, 1)) == "026001"
    assert julian(date(2024, 12, 31)) == "024366"  # a leap year


def _records(data: bytes) -> list[str]:
    return data.decode("ascii").split("\r\n")[:-1]


def _join(records: list[str]) -> bytes:
    return ("\r\n".join(records) + "\r\n").encode("ascii")


def _replace(record: str, start: int, text: str) -> str:
    return record[: start - 1] + text + record[start - 1 + len(text) :]


BROKEN = {
    "short record": lambda r: [r[0][:-1], *r[1:]],
    "long record": lambda r: [r[0] + " ", *r[1:]],
    "no trailer": lambda r: r[:-1],
    "two headers": lambda r: [r[0], *r],
    "record count out of sequence": lambda r: [r[0], _replace(r[1], 2, "000000003"), *r[2:]],
    "another originator in a credit record": lambda r: [
        r[0],
        _replace(r[1], 11, "SOMEONE000"),
        *r[2:],
    ],
    "another file number in the trailer": lambda r: [*r[:-1], _replace(r[-1], 21, "0043")],
    "credit total off by a cent": lambda r: [
        *r[:-1],
        _replace(r[-1], 47, f"{int(r[-1][46:60]) + 1:014d}"),
    ],
    "credit count off by one": lambda r: [
        *r[:-1],
        _replace(r[-1], 61, f"{int(r[-1][60:68]) + 1:08d}"),
    ],
    "a debit total in a credit file": lambda r: [*r[:-1], _replace(r[-1], 25, "0" * 13 + "1")],
    "amount not numeric": lambda r: [r[0], _replace(r[1], 24 + 4, "00000X0000"), *r[2:]],
    "bad due date": lambda r: [r[0], _replace(r[1], 24 + 14, "026400"), *r[2:]],
    "bad payee institution": lambda r: [r[0], _replace(r[1], 24 + 20, "181500001"), *r[2:]],
    "item trace not zero": lambda r: [r[0], _replace(r[1], 24 + 41, "1"), *r[2:]],
    "gap between segments": lambda r: [
        r[0],
        _replace(r[1], 24 + 240 + 1, " " * 240),
        *r[2:],
    ],
    "text in the header filler": lambda r: [_replace(r[0], 100, "X"), *r[1:]],
    "text in the trailer filler": lambda r: [*r[:-1], _replace(r[-1], 1464, "X")],
    "a partly filled record before the last": lambda r: [
        r[0],
        _replace(r[1], 24 + 5 * 240 + 1, " " * 240),
        *r[2:],
    ],
    "bad currency": lambda r: [_replace(r[0], 56, "EUR"), *r[1:]],
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_the_reader_refuses_a_broken_file(name):
    good = build(8)  # two C records: 6 + 2
    check_cpa005(good)
    with pytest.raises(Cpa005Invalid):
        check_cpa005(_join(BROKEN[name](_records(good))))


def test_the_reader_refuses_non_ascii_and_a_missing_final_line_break():
    good = build(2)
    with pytest.raises(Cpa005Invalid):
        check_cpa005(good.replace(b"GARAGE", "GARAGÉ".encode()[:6], 1))
    with pytest.raises(Cpa005Invalid):
        check_cpa005(good[:-2])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"currency": "EUR"}, "currency EUR"),
        ({"file_number": 0}, "file creation number"),
        ({"credits": []}, "at least one credit"),
        ({"originator": Originator.from_mapping(PAYOUT_DEBTOR)}, "originator id"),
        (
            {"credits": [Credit(D("1.00"), "X", "81500001", "1", "r")]},
            "payee institution",
        ),
        ({"credits": [Credit(D("1.00"), "X", "081500001", "12-34", "r")]}, "payee account"),
        ({"credits": [Credit(D("100000000.00"), "X", "081500001", "1", "r")]}, "out of range"),
    ],
)
def test_the_writer_refuses_what_a_bank_would_reject(overrides, message):
    with pytest.raises(BankFileError, match=message):
        build(1, **overrides)


# --- A tenant's payout in CPA-005 ---------------------------------------------------------


@pytest.fixture
def cpa_tenant(alpha, settings, site, station, platform_fee):
    settings.BILLING_PAYOUT_DEBTOR = CPA_DEBTOR
    services.billing_profile_update(
        payout_account_holder="Garage Alpha Inc.",
        payout_account_number="7654321",
        payout_clearing_system="CACPA",
        payout_clearing_member_id="081500001",
        payout_file_format=BankFileFormat.CPA_005,
    )
    tariff = services.tariff_create(
        name="Public",
        definition={"currency": "CAD", "energy": [{"price_per_kwh": "0.25"}]},
        effective_from=at("2026-01-01 00:00"),
    )
    services.tariff_assign(tariff=tariff, site=site)
    for day in (3, 14):
        session = record_session(
            station,
            start=at(f"2026-02-{day:02d} 10:00"),
            end=at(f"2026-02-{day:02d} 11:00"),
            energy_wh=10_000 + day,
        )
        services.session_bill(session_id=session.pk)
    return alpha


def test_a_payout_in_cpa005_pays_the_amount_to_the_tenant(cpa_tenant, personas):
    payout = services.payout_run(period_start=FEBRUARY, now=AFTER_FEBRUARY)
    assert payout.status == PayoutStatus.READY
    assert payout.bank_file_format == "cpa005"
    parsed = check_cpa005(payout.bank_file.encode("ascii"))
    (payment,) = parsed.payments
    assert payment.cents == int(payout.amount * 100) and payout.amount > 0
    assert payment.institution == "081500001" and payment.account == "7654321"
    assert payment.payee_name == "GARAGE ALPHA INC."
    assert payment.cross_reference == payout.message_id
    assert payment.due == date(2026, 3, 2) and parsed.created_on == date(2026, 3, 2)
    assert parsed.originator_id == "CGPLAT0001"

    response = api_client(alpha := cpa_tenant, user=personas.owner).get(
        f"/api/v1/billing/payouts/{payout.pk}/bank-file/"
    )
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    assert response["Content-Disposition"].endswith('.txt"')
    assert response.content == payout.bank_file.encode("ascii")
    assert alpha.currency == "CAD"


def test_every_file_gets_a_new_file_creation_number(cpa_tenant):
    from apps.billing.services.payouts import cpa005_file_number

    first = services.payout_run(period_start=FEBRUARY, now=AFTER_FEBRUARY)
    number = int(check_cpa005(first.bank_file.encode()).file_number)
    following = cpa005_file_number()
    assert following == number % 9999 + 1


def test_without_the_originator_id_the_payout_waits_for_bank_details(cpa_tenant, settings):
    settings.BILLING_PAYOUT_DEBTOR = PAYOUT_DEBTOR  # no CPA-005 originator id
    payout = services.payout_run(period_start=FEBRUARY, now=AFTER_FEBRUARY)
    assert payout.status == PayoutStatus.NEEDS_BANK_DETAILS and not payout.bank_file
    settings.BILLING_PAYOUT_DEBTOR = CPA_DEBTOR
    payout = services.payout_attach_bank_file(payout=payout, now=AFTER_FEBRUARY)
    assert payout.status == PayoutStatus.READY
    check_cpa005(payout.bank_file.encode())


def test_an_iban_only_account_cannot_be_paid_by_cpa005(cpa_tenant):
    services.billing_profile_update(
        payout_account_number="",
        payout_clearing_member_id="",
        payout_iban="FR7630006000011234567890189",
    )
    payout = services.payout_run(period_start=FEBRUARY, now=AFTER_FEBRUARY)
    assert payout.status == PayoutStatus.NEEDS_BANK_DETAILS
    assert Payout.objects.get().bank_file == ""


def test_cpa005_is_only_for_canadian_or_us_dollars(alpha):
    previous = alpha.currency
    try:
        connection.tenant.currency = "EUR"
        with pytest.raises(ValidationError) as error:
            services.billing_profile_update(payout_file_format=BankFileFormat.CPA_005)
        assert "payout_file_format" in error.value.message_dict
    finally:
        connection.tenant.currency = previous
