"""Exports of the fleet app.

* Vehicles, cards and usage as tables (CSV / XLSX) through django-import-export's resources
  and formats: the columns are those the imports read back (``imports.py``).
* The **fuel-card transaction file** per vehicle and period (docs/fleet.md, "Fuel-card
  transactions"): one line per charging session, in the fixed layout ``FUEL_CARD_COLUMNS``
  that fleet fuel-card and expense systems ingest (their "transaction" import: card, vehicle,
  site, date and time, product, quantity, unit, amounts).  CSV (UTF-8, comma, header line) or
  XLSX written with xlsxwriter.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import xlsxwriter
from import_export import fields, resources
from import_export.formats.base_formats import CSV, XLSX

from .models import FleetCard, Vehicle
from .selectors import UsageRow

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class VehicleResource(resources.ModelResource):
    fleet = fields.Field(attribute="fleet__name", column_name="fleet")
    depot = fields.Field(attribute="depot__name", column_name="depot")

    class Meta:
        model = Vehicle
        fields = ("fleet", "vin", "plate", "make", "model", "battery_kwh", "depot", "is_active")
        export_order = fields


class CardResource(resources.ModelResource):
    fleet = fields.Field(attribute="fleet__name", column_name="fleet")
    card = fields.Field(attribute="token__uid", column_name="card")
    vehicle_vin = fields.Field(attribute="vehicle__vin", column_name="vehicle_vin")
    driver = fields.Field(attribute="driver_name", column_name="driver")
    active = fields.Field(attribute="token__is_active", column_name="active")

    class Meta:
        model = FleetCard
        fields = ("fleet", "card", "kind", "vehicle_vin", "driver", "active")
        export_order = fields


def table(resource: resources.ModelResource, queryset, file_format: str) -> bytes:
    dataset = resource.export(queryset=queryset)
    if file_format == "xlsx":
        return XLSX().export_data(dataset)
    return CSV().export_data(dataset).encode("utf-8")


# --- Fuel-card transactions ------------------------------------------------------------------
FUEL_CARD_COLUMNS = (
    "transaction_id",  # the platform's session id, stable
    "card_number",  # the card (token) that started the session
    "vehicle_vin",
    "vehicle_plate",
    "fleet",
    "driver",
    "site",
    "station",
    "date",  # local date at the site, YYYY-MM-DD
    "time",  # local start time at the site, HH:MM:SS
    "start_utc",  # ISO 8601, UTC
    "end_utc",
    "duration_min",
    "product",  # always "EV charging"
    "quantity",  # kWh, 3 decimals (the session's Wh / 1000)
    "unit",  # always "kWh"
    "unit_price",  # amount / quantity, 4 decimals; empty when not priced
    "net_amount",  # tax excluded
    "tax_amount",
    "gross_amount",  # tax included
    "currency",  # ISO 4217
    "receipt_number",
)
PRODUCT = "EV charging"


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def fuel_card_lines(rows: list[UsageRow]) -> list[dict[str, str]]:
    lines = []
    for row in rows:
        usage = row.usage
        zone = ZoneInfo(usage.session.station.site.timezone)
        local = row.started_at.astimezone(zone)
        kwh = Decimal(row.energy_wh) / 1000
        unit_price = f"{(row.total / kwh):.4f}" if row.total is not None and row.energy_wh else ""
        tax = (
            row.total - row.total_excl_tax
            if row.total is not None and row.total_excl_tax is not None
            else None
        )
        lines.append(
            {
                "transaction_id": str(usage.session_id),
                "card_number": row.card,
                "vehicle_vin": usage.vehicle.vin if usage.vehicle else "",
                "vehicle_plate": usage.vehicle.plate if usage.vehicle else "",
                "fleet": usage.fleet.name,
                "driver": usage.driver_name,
                "site": row.site,
                "station": row.station,
                "date": f"{local:%Y-%m-%d}",
                "time": f"{local:%H:%M:%S}",
                "start_utc": row.started_at.astimezone(ZoneInfo("UTC")).isoformat(),
                "end_utc": row.ended_at.astimezone(ZoneInfo("UTC")).isoformat()
                if row.ended_at
                else "",
                "duration_min": "" if row.minutes is None else str(row.minutes),
                "product": PRODUCT,
                "quantity": f"{kwh:.3f}",
                "unit": "kWh",
                "unit_price": unit_price,
                "net_amount": _money(row.total_excl_tax),
                "tax_amount": _money(tax),
                "gross_amount": _money(row.total),
                "currency": row.currency,
                "receipt_number": row.receipt,
            }
        )
    return lines


def fuel_card_file(rows: list[UsageRow], file_format: str) -> bytes:
    lines = fuel_card_lines(rows)
    if file_format == "xlsx":
        output = io.BytesIO()
        book = xlsxwriter.Workbook(output, {"in_memory": True})
        sheet = book.add_worksheet("transactions")
        bold = book.add_format({"bold": True})
        sheet.write_row(0, 0, FUEL_CARD_COLUMNS, bold)
        numeric = {"quantity", "unit_price", "net_amount", "tax_amount", "gross_amount"}
        for index, line in enumerate(lines, start=1):
            for column, name in enumerate(FUEL_CARD_COLUMNS):
                value = line[name]
                if name in numeric and value:
                    sheet.write_number(index, column, float(value))
                else:
                    sheet.write_string(index, column, value)
        book.close()
        return output.getvalue()
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=FUEL_CARD_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(lines)
    return text.getvalue().encode("utf-8")


def usage_table(rows: list[UsageRow], file_format: str) -> bytes:
    """Usage rows as a table (the same data as the fuel-card file, the platform's names)."""
    return fuel_card_file(rows, file_format)
