"""Export writers: the rollups of a period as rows (one per port and local day, or per port and
quarter hour), streamed to CSV or XLSX.  Rows are read with a server-side cursor and written one
by one (XlsxWriter's constant_memory mode), so a year of quarter hours never sits in memory."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import IO
from zoneinfo import ZoneInfo

import xlsxwriter
from django.utils.translation import gettext as _

from apps.core.scoping import Actor

from .choices import STATE_COLUMNS, Grain
from .models import PortDayRollup, PortRollup
from .selectors import PERMISSION

MEASURES = (
    "energy_wh",
    "peak_power_w",
    *STATE_COLUMNS,
    "seconds_occupied",
    "sessions_started",
    "sessions_ended",
    "revenue",
)
CHUNK = 5000


def header(grain: str) -> list[str]:
    when = _("Day") if grain == Grain.DAY else _("Quarter hour (site time)")
    return [when, _("Site"), _("Station"), _("Port"), *MEASURES]


def queryset(*, actor: Actor, grain: str, start: dt.date, end: dt.date, site_ids=None):
    if grain == Grain.DAY:
        rows = PortDayRollup.objects.restrict(actor, PERMISSION).filter(day__gte=start, day__lt=end)
        order = ("day", "site__name", "station__identity", "evse__evse_id")
    else:
        # Quarter hours of [start, end) in UTC widened by a day; each row is then kept if it
        # falls on a day of the period in its site's zone.
        rows = PortRollup.objects.restrict(actor, PERMISSION).filter(
            bucket__gte=dt.datetime.combine(start, dt.time(), dt.UTC) - dt.timedelta(days=1),
            bucket__lt=dt.datetime.combine(end, dt.time(), dt.UTC) + dt.timedelta(days=1),
        )
        order = ("bucket", "site__name", "station__identity", "evse__evse_id")
    if site_ids:
        rows = rows.filter(site_id__in=site_ids)
    return rows.order_by(*order)


def rows(
    *, actor: Actor, grain: str, start: dt.date, end: dt.date, site_ids=None
) -> Iterator[list]:
    when = "day" if grain == Grain.DAY else "bucket"
    values = queryset(
        actor=actor, grain=grain, start=start, end=end, site_ids=site_ids
    ).values_list(
        when, "site__name", "site__timezone", "station__identity", "evse__evse_id", *MEASURES
    )
    for row in values.iterator(chunk_size=CHUNK):
        moment, site, zone, station, port, *measures = row
        if grain != Grain.DAY:
            moment = moment.astimezone(ZoneInfo(zone or "UTC"))
            if not start <= moment.date() < end:
                continue
            moment = moment.replace(tzinfo=None)
        yield [moment, site or "", station, port, *measures]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(grain: str, data: Iterable[list]) -> Iterator[str]:
    """CSV text line by line (for a streaming response or a file)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(header(grain))
    for row in data:
        yield writer.writerow(
            [v.isoformat() if isinstance(v, dt.date | dt.datetime) else v for v in row]
        )


def write_csv(handle: IO[str], grain: str, data: Iterable[list], tick: Callable[[int], None]):
    for n, line in enumerate(csv_lines(grain, data)):
        handle.write(line)
        if n and n % CHUNK == 0:
            tick(n)


def write_xlsx(path: str, grain: str, data: Iterable[list], tick: Callable[[int], None]) -> int:
    book = xlsxwriter.Workbook(path, {"constant_memory": True, "remove_timezone": True})
    sheet = book.add_worksheet(_("Report")[:31])
    bold = book.add_format({"bold": True})
    when_format = book.add_format(
        {"num_format": "yyyy-mm-dd" if grain == Grain.DAY else "yyyy-mm-dd hh:mm"}
    )
    money = book.add_format({"num_format": "0.00"})
    sheet.write_row(0, 0, header(grain), bold)
    sheet.set_column(0, 0, 18)
    count = 0
    for count, row in enumerate(data, start=1):
        moment, *rest = row
        if not isinstance(moment, dt.datetime):
            moment = dt.datetime.combine(moment, dt.time())
        sheet.write_datetime(count, 0, moment, when_format)
        for column, value in enumerate(rest, start=1):
            if isinstance(value, Decimal):
                sheet.write_number(count, column, float(value), money)
            elif value is None:
                sheet.write_blank(count, column, None)
            else:
                sheet.write(count, column, value)
        if count % CHUNK == 0:
            tick(count)
    book.close()
    return count
