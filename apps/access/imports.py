"""Imports of drivers' cards and their groups from CSV or XLSX (thousands of rows).

The file is read with django-import-export's formats (tablib underneath; openpyxl for XLSX).
Columns, by header name (case and spaces ignored): ``token`` (required: the card's id),
``groups`` (group names separated by ``;``; missing groups are created), ``label``,
``expires`` (ISO date or date and time, UTC), ``parent`` (the OCPP group / parent id).

Every row is checked first; each bad row is reported with its line in the file (the header
is line 1) and the reason.  Then: with no bad row, everything is imported; with bad rows,
nothing is, unless ``keep_good`` asks to import the good rows anyway.  ``dry_run`` checks and
reports only.  A card that exists already keeps its own label, expiry and parent (the token
pages change those); only its memberships are added.  Writes go through the services, in
one transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django import forms
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.formats.base_formats import CSV, XLSX

from apps.charging import services as charging
from apps.charging.models import IdToken

from . import services
from .models import AccessGroup

MAX_ROWS = 100_000
COLUMNS = ("token", "groups", "label", "expires", "parent")


class ImportFileError(ValueError):
    """The file cannot be read as a table with a ``token`` column."""


class RowForm(forms.Form):
    token = forms.CharField(max_length=64, error_messages={"required": gettext_lazy("No token.")})
    groups = forms.CharField(required=False)
    label = forms.CharField(max_length=120, required=False)
    expires = forms.CharField(required=False)
    parent = forms.CharField(max_length=64, required=False)

    def clean_groups(self) -> list[str]:
        names = [name.strip() for name in self.cleaned_data["groups"].split(";") if name.strip()]
        for name in names:
            if len(name) > 120:
                raise forms.ValidationError(_("A group name is longer than 120 characters."))
        return list(dict.fromkeys(names))

    def clean_expires(self) -> dt.datetime | None:
        text = self.cleaned_data["expires"].strip()
        if not text:
            return None
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise forms.ValidationError(
                _("“%(value)s” is not a date (2027-12-31 or 2027-12-31T23:59).") % {"value": text}
            ) from None
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=dt.UTC)
        return moment


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str


@dataclass
class ImportReport:
    rows: int = 0
    good: int = 0
    errors: list[RowError] = field(default_factory=list)
    imported: bool = False
    tokens_created: int = 0
    groups_created: int = 0
    memberships_added: int = 0


def read_table(content: bytes, filename: str) -> list[dict[str, str]]:
    """The file's rows as dicts of the known columns (values as text)."""
    is_xlsx = filename.lower().endswith(".xlsx")
    try:
        dataset = (
            XLSX().create_dataset(content)
            if is_xlsx
            else CSV(encoding="utf-8-sig").create_dataset(content)
        )
    except Exception as error:  # noqa: BLE001 - any parser failure is the file's fault
        raise ImportFileError(_("The file cannot be read: %(error)s") % {"error": error}) from error
    headers = [str(h or "").strip().lower().replace(" ", "_") for h in dataset.headers or []]
    if "token" not in headers:
        raise ImportFileError(_("The file has no “token” column."))
    if len(dataset) > MAX_ROWS:
        raise ImportFileError(_("At most %(count)d rows per file.") % {"count": MAX_ROWS})
    rows = []
    for values in dataset:
        row = {}
        for header, value in zip(headers, values, strict=False):
            if header in COLUMNS:
                row[header] = _text(value)
        rows.append(row)
    return rows


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a spreadsheet's number-looking card id
    return str(value).strip()


def tokens_import(
    *, content: bytes, filename: str, keep_good: bool = False, dry_run: bool = False
) -> ImportReport:
    rows = read_table(content, filename)
    report = ImportReport(rows=len(rows))
    good: list[dict] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        line = index + 2
        if not any(row.values()):
            continue  # a blank line
        form = RowForm(row)
        if not form.is_valid():
            for name, messages in form.errors.items():
                report.errors.extend(RowError(line, name, message) for message in messages)
            continue
        uid = form.cleaned_data["token"].strip()
        if uid in seen:
            report.errors.append(
                RowError(line, "token", _("Same token as line %(line)d.") % {"line": seen[uid]})
            )
            continue
        seen[uid] = line
        good.append({**form.cleaned_data, "token": uid})
    report.good = len(good)
    if dry_run or (report.errors and not keep_good):
        return report
    _write(good, report)
    report.imported = True
    return report


@transaction.atomic
def _write(rows: list[dict], report: ImportReport) -> None:
    names = {name for row in rows for name in row["groups"]}
    groups = {g.name: g for g in AccessGroup.objects.filter(name__in=names)}
    for name in sorted(names - set(groups)):
        groups[name] = services.group_create(name=name)
        report.groups_created += 1
    tokens = {t.uid: t for t in IdToken.objects.filter(uid__in=[row["token"] for row in rows])}
    members: dict[str, list[IdToken]] = {}
    for row in rows:
        token = tokens.get(row["token"])
        if token is None:
            token = charging.token_create(
                uid=row["token"],
                label=row["label"],
                expires_at=row["expires"],
                parent_uid=row["parent"],
            )
            tokens[token.uid] = token
            report.tokens_created += 1
        for name in row["groups"]:
            members.setdefault(name, []).append(token)
    through = AccessGroup.tokens.through
    for name, group_tokens in members.items():
        group = groups[name]
        before = through.objects.filter(accessgroup=group).count()
        services.group_add_tokens(group=group, tokens=group_tokens)
        report.memberships_added += through.objects.filter(accessgroup=group).count() - before
