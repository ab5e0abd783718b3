"""Imports of vehicles and cards from CSV or XLSX (the columns of ``exports.py``).

Read with django-import-export's formats (tablib underneath; openpyxl for XLSX).  Every row
is checked first; each bad row is reported with its line (the header is line 1).  With no bad
row everything is written (through the services, in one transaction); with bad rows nothing
is, unless ``keep_good``; ``dry_run`` only checks.  A vehicle is matched by VIN (an existing
one is updated), a card by its number (an existing card of the fleet is re-linked).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from import_export.formats.base_formats import CSV, XLSX

from apps.stations.models import Site

from . import services
from .choices import CardKind
from .models import Fleet, FleetCard, Vehicle
from .vin import validate_vin

MAX_ROWS = 50_000


class ImportFileError(ValueError):
    pass


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str


@dataclass
class ImportReport:
    rows: int = 0
    good: int = 0
    created: int = 0
    updated: int = 0
    imported: bool = False
    errors: list[RowError] = field(default_factory=list)


def read_table(content: bytes, filename: str, required: str) -> list[dict[str, str]]:
    try:
        dataset = (
            XLSX().create_dataset(content)
            if filename.lower().endswith(".xlsx")
            else CSV(encoding="utf-8-sig").create_dataset(content)
        )
    except Exception as error:  # noqa: BLE001 - any parser failure is the file's fault
        raise ImportFileError(_("The file cannot be read: %(error)s") % {"error": error}) from error
    headers = [str(h or "").strip().lower().replace(" ", "_") for h in dataset.headers or []]
    if required not in headers:
        raise ImportFileError(_("The file has no “%(column)s” column.") % {"column": required})
    if len(dataset) > MAX_ROWS:
        raise ImportFileError(_("At most %(count)d rows per file.") % {"count": MAX_ROWS})
    rows = []
    for values in dataset:
        row = {}
        for header, value in zip(headers, values, strict=False):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            row[header] = "" if value is None else str(value).strip()
        rows.append(row)
    return rows


class VehicleRow(forms.Form):
    fleet = forms.CharField()
    vin = forms.CharField(max_length=17)
    make = forms.CharField(max_length=60)
    model = forms.CharField(max_length=60)
    battery_kwh = forms.DecimalField(max_digits=6, decimal_places=1, min_value=1)
    plate = forms.CharField(max_length=20, required=False)
    depot = forms.CharField(required=False)

    def __init__(self, *args, fleets: dict[str, Fleet], sites: dict[str, Site], **kwargs):
        super().__init__(*args, **kwargs)
        self.fleets, self.sites = fleets, sites

    def clean_fleet(self) -> Fleet:
        fleet = self.fleets.get(self.cleaned_data["fleet"])
        if fleet is None:
            raise forms.ValidationError(_("No fleet of yours has this name."))
        return fleet

    def clean_vin(self) -> str:
        vin = self.cleaned_data["vin"].upper()
        validate_vin(vin)
        return vin

    def clean_depot(self) -> Site | None:
        name = self.cleaned_data["depot"]
        if not name:
            return None
        if name not in self.sites:
            raise forms.ValidationError(_("No site of yours has this name."))
        return self.sites[name]


class CardRow(forms.Form):
    fleet = forms.CharField()
    card = forms.CharField(max_length=64)
    kind = forms.ChoiceField(choices=CardKind.choices, required=False)
    vehicle_vin = forms.CharField(required=False)
    driver = forms.CharField(max_length=120, required=False)

    def __init__(self, *args, fleets: dict[str, Fleet], **kwargs):
        super().__init__(*args, **kwargs)
        self.fleets = fleets

    def clean_fleet(self) -> Fleet:
        fleet = self.fleets.get(self.cleaned_data["fleet"])
        if fleet is None:
            raise forms.ValidationError(_("No fleet of yours has this name."))
        return fleet

    def clean(self):
        data = super().clean()
        fleet = data.get("fleet")
        vin = (data.get("vehicle_vin") or "").upper()
        data["vehicle"] = None
        if fleet and vin:
            data["vehicle"] = Vehicle.objects.filter(fleet=fleet, vin=vin).first()
            if data["vehicle"] is None:
                self.add_error("vehicle_vin", _("No vehicle of this fleet has this VIN."))
        if not vin and not data.get("driver"):
            self.add_error("driver", _("A card is for a vehicle or a driver."))
        if data.get("kind") == CardKind.AUTOCHARGE and not vin:
            self.add_error("vehicle_vin", _("An Autocharge id belongs to a vehicle."))
        return data


def _messages(error: ValidationError):
    if hasattr(error, "error_dict"):
        return error.message_dict.items()
    return [("__all__", error.messages)]


def _check(rows, make_form, key: str, report: ImportReport) -> list[tuple[int, dict]]:
    good, seen = [], {}
    for index, row in enumerate(rows):
        line = index + 2
        if not any(row.values()):
            continue
        form = make_form(row)
        if not form.is_valid():
            for name, messages in form.errors.items():
                report.errors.extend(RowError(line, name, message) for message in messages)
            continue
        value = str(form.cleaned_data[key]).upper()
        if value in seen:
            message = _("Same %(column)s as line %(line)d.") % {"column": key, "line": seen[value]}
            report.errors.append(RowError(line, key, message))
            continue
        seen[value] = line
        good.append((line, form.cleaned_data))
    report.good = len(good)
    return good


def vehicles_import(
    *,
    content: bytes,
    filename: str,
    fleets: list[Fleet],
    sites: list[Site],
    keep_good: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """Vehicles of ``fleets`` (those the importer may change), depots among ``sites``."""
    rows = read_table(content, filename, "vin")
    report = ImportReport(rows=len(rows))
    by_name = {f.name: f for f in fleets}
    site_names = {s.name: s for s in sites}
    good = _check(
        rows, lambda row: VehicleRow(row, fleets=by_name, sites=site_names), "vin", report
    )
    if dry_run or (report.errors and not keep_good):
        return report
    with transaction.atomic():
        existing = {v.vin: v for v in Vehicle.objects.filter(vin__in=[d["vin"] for _l, d in good])}
        for line, data in good:
            vehicle = existing.get(data["vin"])
            try:
                with transaction.atomic():
                    if vehicle is None:
                        services.vehicle_create(**data)
                        report.created += 1
                    elif vehicle.fleet_id not in {f.pk for f in fleets}:
                        raise ValidationError({"vin": _("This VIN is another fleet's vehicle.")})
                    else:
                        services.vehicle_update(vehicle=vehicle, **data)
                        report.updated += 1
            except ValidationError as error:
                for name, messages in _messages(error):
                    report.errors.extend(RowError(line, name, m) for m in messages)
                report.good -= 1
    report.imported = True
    return report


def cards_import(
    *,
    content: bytes,
    filename: str,
    fleets: list[Fleet],
    keep_good: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    rows = read_table(content, filename, "card")
    report = ImportReport(rows=len(rows))
    by_name = {f.name: f for f in fleets}
    good = _check(rows, lambda row: CardRow(row, fleets=by_name), "card", report)
    if dry_run or (report.errors and not keep_good):
        return report
    with transaction.atomic():
        for line, data in good:
            fields = {
                "kind": data["kind"] or CardKind.RFID,
                "vehicle": data["vehicle"],
                "driver_name": data["driver"],
            }
            existing = FleetCard.objects.filter(token__uid=data["card"]).first()
            try:
                with transaction.atomic():
                    if existing is None:
                        services.card_create(fleet=data["fleet"], uid=data["card"], **fields)
                        report.created += 1
                    elif existing.fleet_id != data["fleet"].pk:
                        raise ValidationError({"card": _("This card belongs to another fleet.")})
                    else:
                        services.card_update(card=existing, **fields)
                        report.updated += 1
            except ValidationError as error:
                for name, messages in _messages(error):
                    report.errors.extend(RowError(line, name, m) for m in messages)
                report.good -= 1
    report.imported = True
    return report
