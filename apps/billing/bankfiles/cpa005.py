"""Canadian Payments Association Standard 005 (AFT, 1464-byte records) credit files.

The layout is fixed-width ASCII: one ``A`` header record, ``C`` credit records holding up to
six 240-byte payment segments each, one ``Z`` trailer with the counts and totals.  Every
record is exactly 1464 bytes; records are separated by CR LF (what Canadian banks' upload
portals accept for "1464 byte, with line breaks").

Positions (1-based, inclusive), common to every record::

    1        record type (A, C, Z)
    2-10     logical record count (the record's sequence number in the file, 1 = header)
    11-20    originator's id (assigned by the originator's bank)
    21-24    file creation number (unique per originator)

Header ``A``: 25-30 creation date ``0YYDDD``, 31-35 destination data centre, 36-55 reserved
(blank), 56-58 currency (``CAD``/``USD``), 59-1464 blank.

Credit ``C``: 25-1464 six segments of 240 bytes; unused segments are blank.  A segment::

    1-3      transaction type (CPA Standard 007 code)
    4-13     amount in cents, zero filled
    14-19    date funds are available ``0YYDDD``
    20-28    payee's institution: ``0`` + institution (3) + transit (5)
    29-40    payee's account number, left justified
    41-62    item trace number (zeros: the bank assigns it)
    63-65    stored transaction type (zeros)
    66-80    originator's short name
    81-110   payee's name
    111-140  originator's long name
    141-150  originating direct clearer's user id (the originator's id)
    151-169  originator's cross reference number
    170-178  institution for returns: ``0`` + institution (3) + transit (5)
    179-190  account number for returns
    191-205  originator's sundry information
    206-227  filler (blank)
    228-229  originator-direct clearer settlement code (blank)
    230-240  invalid data element id (zeros)

Trailer ``Z``: 25-38 total value of debits, 39-46 number of debits, 47-60 total value of
credits, 61-68 number of credits, 69-82 / 83-90 and 91-104 / 105-112 the same for error
corrections ``E`` and ``F`` (all zero here: we only write credits), 113-1464 blank.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ..money import to_minor_units
from .pain001 import BankFileError

RECORD_LENGTH = 1464
SEGMENT_LENGTH = 240
SEGMENTS_PER_RECORD = 6
HEADER_LENGTH = 24  # type + count + originator id + file creation number
CURRENCIES = ("CAD", "USD")
MAX_SEGMENT_CENTS = 10**10 - 1  # 10 digits
DEFAULT_TRANSACTION_TYPE = "460"  # CPA Standard 007: accounts payable
_ALPHA = re.compile(r"[^A-Z0-9 .,\-/&'()]")
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Originator:
    """The paying side (the platform): its bank assigns the originator id and data centre."""

    originator_id: str  # up to 10 characters
    data_centre: str  # 5 digits
    short_name: str
    long_name: str
    return_institution: str  # 9 digits: 0 + institution + transit
    return_account: str  # up to 12 digits

    @classmethod
    def from_mapping(cls, data) -> Originator:
        """From ``BILLING_PAYOUT_DEBTOR``: ``cpa005_originator_id``, ``cpa005_data_centre``,
        optional ``cpa005_short_name``; returns go to its ``clearing_member_id`` /
        ``account_number``."""
        name = str(data.get("name", "") or "")
        return cls(
            originator_id=str(data.get("cpa005_originator_id", "") or ""),
            data_centre=str(data.get("cpa005_data_centre", "") or ""),
            short_name=str(data.get("cpa005_short_name", "") or name),
            long_name=name,
            return_institution=str(data.get("clearing_member_id", "") or ""),
            return_account=str(data.get("account_number", "") or ""),
        )

    def problems(self) -> list[str]:
        found = []
        if not self.originator_id or len(self.originator_id) > 10:
            found.append("CPA-005 originator id (up to 10 characters)")
        if not re.fullmatch(r"\d{5}", self.data_centre):
            found.append("CPA-005 destination data centre (5 digits)")
        if not self.long_name:
            found.append("originator name")
        found += institution_problems(self.return_institution, "returns institution")
        found += account_problems(self.return_account, "returns account number")
        return found


@dataclass(frozen=True)
class Credit:
    amount: Decimal
    payee_name: str
    payee_institution: str  # 9 digits: 0 + institution (3) + transit (5)
    payee_account: str  # up to 12 digits
    cross_reference: str  # up to 19 characters, quoted back on returns
    sundry: str = ""  # up to 15 characters


def institution_problems(value: str, what: str) -> list[str]:
    if re.fullmatch(r"0\d{8}", value or ""):
        return []
    return [f"{what} (0 + institution number (3) + transit number (5), 9 digits)"]


def account_problems(value: str, what: str) -> list[str]:
    if _DIGITS.fullmatch(value or "") and len(value) <= 12:
        return []
    return [f"{what} (digits only, at most 12)"]


def alpha(value: str, width: int) -> str:
    """Upper-case plain ASCII, left justified and blank filled to ``width``."""
    plain = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().upper()
    return _ALPHA.sub(" ", plain).strip()[:width].ljust(width)


def numeric(value: int | str, width: int) -> str:
    text = str(value)
    if not _DIGITS.fullmatch(text) or len(text) > width:
        raise BankFileError(f"{text!r} does not fit {width} digits")
    return text.zfill(width)


def julian(day: date) -> str:
    """``0YYDDD``: the CPA's date (year of the century and day of the year)."""
    return f"0{day:%y}{day.timetuple().tm_yday:03d}"


def _common(kind: str, count: int, originator: Originator, file_number: int) -> str:
    return kind + numeric(count, 9) + alpha(originator.originator_id, 10) + numeric(file_number, 4)


def _segment(
    credit: Credit, cents: int, originator: Originator, transaction_type: str, due: date
) -> str:
    segment = "".join(
        [
            numeric(transaction_type, 3),
            numeric(cents, 10),
            julian(due),
            numeric(credit.payee_institution, 9),
            alpha(credit.payee_account, 12),
            "0" * 22,
            "0" * 3,
            alpha(originator.short_name, 15),
            alpha(credit.payee_name, 30),
            alpha(originator.long_name, 30),
            alpha(originator.originator_id, 10),
            alpha(credit.cross_reference, 19),
            numeric(originator.return_institution, 9),
            alpha(originator.return_account, 12),
            alpha(credit.sundry, 15),
            " " * 22,
            " " * 2,
            "0" * 11,
        ]
    )
    assert len(segment) == SEGMENT_LENGTH
    return segment


def build_cpa005(
    *,
    originator: Originator,
    file_number: int,
    created_on: date,
    due: date,
    currency: str,
    credits: Sequence[Credit],
    transaction_type: str = DEFAULT_TRANSACTION_TYPE,
) -> bytes:
    """The file (ASCII, CR LF between records).  Refuses what a bank would reject."""
    problems = originator.problems()
    for credit in credits:
        problems += institution_problems(credit.payee_institution, "payee institution")
        problems += account_problems(credit.payee_account, "payee account number")
        if not credit.payee_name:
            problems.append("payee name")
    if currency not in CURRENCIES:
        problems.append(f"currency {currency} (CPA-005 carries CAD or USD)")
    if not 1 <= file_number <= 9999:
        problems.append("file creation number (1-9999)")
    if not credits:
        problems.append("at least one credit")
    if problems:
        raise BankFileError("CPA-005: missing or invalid " + "; ".join(problems))

    amounts = []
    for credit in credits:
        cents = to_minor_units(credit.amount, currency)
        if not 0 < cents <= MAX_SEGMENT_CENTS:
            raise BankFileError(f"CPA-005: amount {credit.amount} out of range")
        amounts.append(cents)

    records = [
        _common("A", 1, originator, file_number)
        + julian(created_on)
        + numeric(originator.data_centre, 5)
        + " " * 20
        + currency
    ]
    for start in range(0, len(credits), SEGMENTS_PER_RECORD):
        segments = [
            _segment(credit, cents, originator, transaction_type, due)
            for credit, cents in zip(
                credits[start : start + SEGMENTS_PER_RECORD],
                amounts[start : start + SEGMENTS_PER_RECORD],
                strict=True,
            )
        ]
        records.append(_common("C", len(records) + 1, originator, file_number) + "".join(segments))
    records.append(
        _common("Z", len(records) + 1, originator, file_number)
        + numeric(0, 14)
        + numeric(0, 8)
        + numeric(sum(amounts), 14)
        + numeric(len(amounts), 8)
        + numeric(0, 14)
        + numeric(0, 8)
        + numeric(0, 14)
        + numeric(0, 8)
    )
    lines = [record.ljust(RECORD_LENGTH) for record in records]
    if any(len(line) != RECORD_LENGTH for line in lines):
        raise BankFileError("CPA-005: a record is not 1464 bytes")
    return ("\r\n".join(lines) + "\r\n").encode("ascii")
