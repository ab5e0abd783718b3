"""A strict reader of CPA Standard 005 credit files, written from the standard's layout and
independent of the writer in ``apps.billing.bankfiles.cpa005`` (it shares no code with it).

``check_cpa005(data)`` returns the parsed file or raises ``Cpa005Invalid`` listing every
problem: record lengths, record types and order, sequence numbers, the originator id and
file number repeated in every record, numeric and date fields, blank fillers, segment
packing (up to six per C record, no gaps), and the trailer's counts and totals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

LENGTH = 1464
SEGMENT = 240


class Cpa005Invalid(AssertionError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Payment:
    transaction_type: str
    cents: int
    due: date
    institution: str
    account: str
    payee_name: str
    originator_short_name: str
    originator_long_name: str
    cross_reference: str
    return_institution: str
    return_account: str
    sundry: str


@dataclass
class Cpa005File:
    originator_id: str
    file_number: str
    created_on: date
    data_centre: str
    currency: str
    payments: list[Payment] = field(default_factory=list)
    credit_records: int = 0


def _field(record: str, start: int, end: int) -> str:
    """Positions as the standard numbers them: 1-based, inclusive."""
    return record[start - 1 : end]


def _julian(text: str) -> date | None:
    if not re.fullmatch(r"0\d{5}", text):
        return None
    year, day = 2000 + int(text[1:3]), int(text[3:])
    first = date(year, 1, 1)
    last = date(year, 12, 31).timetuple().tm_yday
    if not 1 <= day <= last:
        return None
    return first + timedelta(days=day - 1)


def check_cpa005(data: bytes) -> Cpa005File:
    problems: list[str] = []

    def need(condition: bool, message: str) -> bool:
        if not condition:
            problems.append(message)
        return condition

    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise Cpa005Invalid(["the file is not plain ASCII"]) from None
    need(text.endswith("\r\n"), "the last record must end with CR LF")
    records = text.split("\r\n")
    if records and records[-1] == "":
        records.pop()
    if not need(len(records) >= 3, f"{len(records)} records: a header, credits and a trailer"):
        raise Cpa005Invalid(problems)
    for number, record in enumerate(records, start=1):
        need(len(record) == LENGTH, f"record {number} is {len(record)} bytes, not {LENGTH}")
        need("\n" not in record and "\r" not in record, f"record {number} holds a line break")
    if problems:
        raise Cpa005Invalid(problems)

    kinds = "".join(record[0] for record in records)
    need(
        re.fullmatch(r"AC+Z", kinds) is not None,
        f"record types {kinds!r}: one A first, C records, one Z last",
    )
    header = records[0]
    originator_id, file_number = _field(header, 11, 20), _field(header, 21, 24)
    need(originator_id.strip() != "", "the originator id is blank")
    need(re.fullmatch(r"\d{4}", file_number) is not None, "the file creation number: 4 digits")
    need(file_number != "0000", "the file creation number cannot be 0000")
    for number, record in enumerate(records, start=1):
        need(
            _field(record, 2, 10) == f"{number:09d}",
            f"record {number}: logical record count {_field(record, 2, 10)!r}",
        )
        need(_field(record, 11, 20) == originator_id, f"record {number}: another originator id")
        need(_field(record, 21, 24) == file_number, f"record {number}: another file number")

    created = _julian(_field(header, 25, 30))
    need(created is not None, f"header creation date {_field(header, 25, 30)!r}: 0YYDDD")
    data_centre = _field(header, 31, 35)
    need(re.fullmatch(r"\d{5}", data_centre) is not None, "header data centre: 5 digits")
    need(_field(header, 36, 55) == " " * 20, "header reserved area 36-55 must be blank")
    currency = _field(header, 56, 58)
    need(currency in ("CAD", "USD"), f"header currency {currency!r}")
    need(_field(header, 59, LENGTH).strip() == "", "header filler 59-1464 must be blank")

    parsed = Cpa005File(
        originator_id=originator_id,
        file_number=file_number,
        created_on=created or date.min,
        data_centre=data_centre,
        currency=currency,
    )
    credits = [record for record in records if record[0] == "C"]
    parsed.credit_records = len(credits)
    for index, record in enumerate(credits, start=2):
        segments = [record[24 + n * SEGMENT : 24 + (n + 1) * SEGMENT] for n in range(6)]
        used = [segment.strip() != "" for segment in segments]
        need(used[0], f"record {index}: the first segment is empty")
        need(
            used == sorted(used, reverse=True),
            f"record {index}: a used segment follows an empty one",
        )
        if index < len(credits) + 1:
            need(all(used), f"record {index}: only the last C record may be partly filled")
        for number, segment in enumerate(segments, start=1):
            if segment.strip():
                payment = _segment(segment, f"record {index} segment {number}", need, originator_id)
                if payment is not None:
                    parsed.payments.append(payment)

    trailer = records[-1]
    totals = {
        "debit value": _field(trailer, 25, 38),
        "debit count": _field(trailer, 39, 46),
        "credit value": _field(trailer, 47, 60),
        "credit count": _field(trailer, 61, 68),
        "E value": _field(trailer, 69, 82),
        "E count": _field(trailer, 83, 90),
        "F value": _field(trailer, 91, 104),
        "F count": _field(trailer, 105, 112),
    }
    for name, value in totals.items():
        need(value.isdigit(), f"trailer {name} {value!r}: digits")
    need(_field(trailer, 113, LENGTH).strip() == "", "trailer filler 113-1464 must be blank")
    if not problems:
        need(
            int(totals["credit count"]) == len(parsed.payments),
            f"trailer credit count {int(totals['credit count'])} != {len(parsed.payments)}",
        )
        value = sum(payment.cents for payment in parsed.payments)
        need(
            int(totals["credit value"]) == value,
            f"trailer credit value {int(totals['credit value'])} != {value}",
        )
        for name in ("debit value", "debit count", "E value", "E count", "F value", "F count"):
            need(int(totals[name]) == 0, f"trailer {name} must be zero in a credit file")
    if problems:
        raise Cpa005Invalid(problems)
    return parsed


def _segment(segment: str, where: str, need, originator_id: str) -> Payment | None:
    def f(start: int, end: int) -> str:
        return _field(segment, start, end)

    ok = all(
        [
            need(re.fullmatch(r"\d{3}", f(1, 3)) is not None, f"{where}: transaction type"),
            need(f(4, 13).isdigit(), f"{where}: amount must be 10 digits"),
            need(_julian(f(14, 19)) is not None, f"{where}: due date 0YYDDD"),
            need(re.fullmatch(r"0\d{8}", f(20, 28)) is not None, f"{where}: payee institution"),
            need(re.fullmatch(r"\d+ *", f(29, 40)) is not None, f"{where}: payee account"),
            need(f(41, 62) == "0" * 22, f"{where}: item trace number must be zeros"),
            need(f(63, 65) == "000", f"{where}: stored transaction type must be zeros"),
            need(f(66, 80).strip() != "", f"{where}: originator short name"),
            need(f(81, 110).strip() != "", f"{where}: payee name"),
            need(f(111, 140).strip() != "", f"{where}: originator long name"),
            need(f(141, 150) == originator_id, f"{where}: user id must be the originator id"),
            need(re.fullmatch(r"0\d{8}", f(170, 178)) is not None, f"{where}: returns institution"),
            need(re.fullmatch(r"\d+ *", f(179, 190)) is not None, f"{where}: returns account"),
            need(f(206, 229) == " " * 24, f"{where}: filler 206-229 must be blank"),
            need(f(230, 240) == "0" * 11, f"{where}: invalid data element id must be zeros"),
        ]
    )
    if not ok:
        return None
    cents = int(f(4, 13))
    need(cents > 0, f"{where}: amount must be positive")
    return Payment(
        transaction_type=f(1, 3),
        cents=cents,
        due=_julian(f(14, 19)),
        institution=f(20, 28),
        account=f(29, 40).strip(),
        payee_name=f(81, 110).strip(),
        originator_short_name=f(66, 80).strip(),
        originator_long_name=f(111, 140).strip(),
        cross_reference=f(151, 169).strip(),
        return_institution=f(170, 178),
        return_account=f(179, 190).strip(),
        sundry=f(191, 205).strip(),
    )
