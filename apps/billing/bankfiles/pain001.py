"""ISO 20022 customer credit transfer initiation (pain.001) files, checked against the schema.

We write versions 001.001.09 (current) and 001.001.03 (still the most widely accepted) and
validate every file against the official XSD shipped by the ``sepaxml`` package before it is
stored.  Accounts are identified by IBAN, or by account number plus a clearing-system member
id (Canada: ``CACPA`` with ``0`` + institution number + transit number).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from xml.etree import ElementTree as ET

from ..money import check_amount, money_sum, quantum

VERSIONS = ("pain.001.001.09", "pain.001.001.03")
_XML_SAFE = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")


class BankFileError(ValueError):
    pass


@dataclass(frozen=True)
class BankAccount:
    name: str
    iban: str = ""
    account_number: str = ""
    clearing_system: str = ""
    clearing_member_id: str = ""
    bic: str = ""
    country: str = ""

    @classmethod
    def from_mapping(cls, data) -> BankAccount:
        return cls(**{key: str(data.get(key, "") or "") for key in cls.__dataclass_fields__})

    def problems(self) -> list[str]:
        found = []
        if not self.name:
            found.append("account holder name")
        if not self.iban and not self.account_number:
            found.append("IBAN or account number")
        if self.account_number and not self.iban and not (self.clearing_member_id or self.bic):
            found.append("bank routing number (clearing member id) or BIC")
        return found

    @property
    def masked(self) -> str:
        number = self.iban or self.account_number
        return f"…{number[-4:]}" if number else ""


@dataclass(frozen=True)
class CreditTransfer:
    end_to_end_id: str
    amount: Decimal
    currency: str
    creditor: BankAccount
    remittance: str


def text(value: str, limit: int) -> str:
    """The conservative character set banks accept everywhere (SWIFT Latin), trimmed."""
    plain = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    cleaned = _XML_SAFE.sub(" ", plain).strip()
    return (cleaned or "-")[:limit]


def _sub(parent: ET.Element, tag: str, value: str | None = None, **attributes) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if value is not None:
        element.text = value
    return element


def _party(parent: ET.Element, tag: str, account: BankAccount) -> None:
    party = _sub(parent, tag)
    _sub(party, "Nm", text(account.name, 140))
    if account.country:
        address = _sub(party, "PstlAdr")
        _sub(address, "Ctry", account.country.upper())


def _account(parent: ET.Element, tag: str, account: BankAccount, currency: str | None) -> None:
    cash = _sub(parent, tag)
    identification = _sub(cash, "Id")
    if account.iban:
        _sub(identification, "IBAN", account.iban.replace(" ", "").upper())
    else:
        other = _sub(identification, "Othr")
        _sub(other, "Id", text(account.account_number, 34).replace(" ", ""))
    if currency:
        _sub(cash, "Ccy", currency)


def _agent(parent: ET.Element, tag: str, account: BankAccount, version: str) -> None:
    agent = _sub(parent, tag)
    institution = _sub(agent, "FinInstnId")
    if account.bic:
        _sub(institution, "BICFI" if version == "pain.001.001.09" else "BIC", account.bic.upper())
    if account.clearing_member_id:
        member = _sub(institution, "ClrSysMmbId")
        if account.clearing_system:
            system = _sub(member, "ClrSysId")
            _sub(system, "Cd", account.clearing_system.upper())
        _sub(member, "MmbId", text(account.clearing_member_id, 35))
    if not account.bic and not account.clearing_member_id:
        other = _sub(institution, "Othr")
        _sub(other, "Id", "NOTPROVIDED")


def _amount(value: Decimal, currency: str) -> str:
    """Exactly the currency's decimals ("934.94", never "934.9400" as stored)."""
    check_amount(value, currency)
    if value <= 0:
        raise BankFileError("A credit transfer must be for a positive amount")
    return f"{value.quantize(quantum(currency)):f}"


def build_pain001(
    *,
    message_id: str,
    created_at: datetime,
    debtor: BankAccount,
    execution_date: date,
    transfers: Sequence[CreditTransfer],
    version: str = "pain.001.001.09",
) -> bytes:
    """One payment instruction from ``debtor`` with one credit transfer per item."""
    if version not in VERSIONS:
        raise BankFileError(f"Unsupported version {version}")
    if not transfers:
        raise BankFileError("A bank file needs at least one transfer")
    problems = debtor.problems()
    if problems:
        raise BankFileError(f"Debtor account is missing: {', '.join(problems)}")
    currencies = {t.currency for t in transfers}
    if len(currencies) != 1:
        raise BankFileError("One file, one currency")
    currency = currencies.pop()
    total = money_sum((t.amount for t in transfers), currency)
    count = str(len(transfers))

    document = ET.Element("Document", {"xmlns": f"urn:iso:std:iso:20022:tech:xsd:{version}"})
    root = _sub(document, "CstmrCdtTrfInitn")
    header = _sub(root, "GrpHdr")
    _sub(header, "MsgId", text(message_id, 35))
    _sub(header, "CreDtTm", created_at.replace(microsecond=0).isoformat())
    _sub(header, "NbOfTxs", count)
    _sub(header, "CtrlSum", _amount(total, currency))
    initiator = _sub(header, "InitgPty")
    _sub(initiator, "Nm", text(debtor.name, 140))

    instruction = _sub(root, "PmtInf")
    _sub(instruction, "PmtInfId", text(message_id, 35))
    _sub(instruction, "PmtMtd", "TRF")
    _sub(instruction, "BtchBookg", "false")
    _sub(instruction, "NbOfTxs", count)
    _sub(instruction, "CtrlSum", _amount(total, currency))
    if version == "pain.001.001.09":
        when = _sub(instruction, "ReqdExctnDt")
        _sub(when, "Dt", execution_date.isoformat())
    else:
        _sub(instruction, "ReqdExctnDt", execution_date.isoformat())
    _party(instruction, "Dbtr", debtor)
    _account(instruction, "DbtrAcct", debtor, currency)
    _agent(instruction, "DbtrAgt", debtor, version)
    _sub(instruction, "ChrgBr", "SLEV" if currency == "EUR" else "SHAR")

    for transfer in transfers:
        problems = transfer.creditor.problems()
        if problems:
            raise BankFileError(f"Creditor account is missing: {', '.join(problems)}")
        item = _sub(instruction, "CdtTrfTxInf")
        identification = _sub(item, "PmtId")
        _sub(identification, "InstrId", text(transfer.end_to_end_id, 35))
        _sub(identification, "EndToEndId", text(transfer.end_to_end_id, 35))
        amount = _sub(item, "Amt")
        _sub(amount, "InstdAmt", _amount(transfer.amount, currency), Ccy=currency)
        _agent(item, "CdtrAgt", transfer.creditor, version)
        _party(item, "Cdtr", transfer.creditor)
        _account(item, "CdtrAcct", transfer.creditor, None)
        remittance = _sub(item, "RmtInf")
        _sub(remittance, "Ustrd", text(transfer.remittance, 140))

    ET.indent(document)
    return ET.tostring(document, encoding="UTF-8", xml_declaration=True)


@lru_cache(maxsize=4)
def _schema(version: str):
    # Lazy on purpose: xmlschema is heavy to import and only payouts validate bank files.
    import xmlschema  # noqa: PLC0415

    path = resources.files("sepaxml").joinpath("schemas", f"{version}.xsd")
    with resources.as_file(path) as xsd:
        return xmlschema.XMLSchema(str(xsd))


def validate_pain001(document: bytes, version: str) -> None:
    """Raise ``BankFileError`` with the schema's reasons if ``document`` is not valid."""
    if version not in VERSIONS:
        raise BankFileError(f"Unsupported version {version}")
    errors = list(_schema(version).iter_errors(document.decode()))
    if errors:
        raise BankFileError("; ".join(str(e.reason or e.message) for e in errors[:5]))
