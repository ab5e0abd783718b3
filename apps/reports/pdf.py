"""The printable PDF summary of a report (fpdf2): headline figures against the previous period,
the daily energy drawn with vector lines, the table of rows, the session breakdowns and the
methods.  Pure rendering: the caller builds the report (selectors) and activates the reader's
language; numbers are formatted in that language (``django.utils.formats``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import formats
from django.utils.translation import gettext as _
from fpdf import FPDF

from .selectors import BreakdownRow, Breakdowns, Report

# The PDF core fonts (Helvetica) hold Latin-1 (French included); a few typographic characters
# Django's formats and translations use are mapped to their nearest Latin-1 equivalent.
_LATIN1 = str.maketrans(
    {
        "\u202f": " ",  # narrow no-break space (French thousands)
        "\u2009": " ",
        "\u2013": "-",
        "\u2014": "-",
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u2248": "~",
        "\u0153": "oe",
        "\u2192": "->",
    }
)

MARGIN = 15
WIDTH = 210 - 2 * MARGIN  # A4 portrait, mm


def latin1(text: object) -> str:
    return str(text).translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


def _n(value, digits: int = 0) -> str:
    if value is None:
        return "-"
    return formats.number_format(value, digits, use_l10n=True, force_grouping=True)


def _kwh(wh: int | None) -> str:
    return "-" if wh is None else _n(Decimal(wh) / 1000, 1)


def _pct(value: Decimal | None) -> str:
    return "-" if value is None else f"{_n(value, 1)} %"


def _change(now, before) -> str:
    if now is None or before in (None, 0):
        return "-"
    change = (Decimal(now) - Decimal(before)) / Decimal(before) * 100
    return f"{'+' if change >= 0 else ''}{_n(change, 1)} %"


class SummaryPdf(FPDF):
    def __init__(self, title: str, subtitle: str):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.summary_title = latin1(title)
        self.summary_subtitle = latin1(subtitle)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title(self.summary_title)
        self.set_creator("chargegrid")

    def header(self):
        self.set_font("Helvetica", "B", 9)
        self.set_text_color(90, 90, 90)
        self.cell(WIDTH / 2, 5, self.summary_title)
        self.cell(WIDTH / 2, 5, self.summary_subtitle, align="R", new_x="LMARGIN", new_y="NEXT")
        self.line(MARGIN, self.get_y() + 1, MARGIN + WIDTH, self.get_y() + 1)
        self.ln(4)
        self.set_text_color(0, 0, 0)

    def footer(self):
        self.set_y(-12)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(
            0,
            5,
            latin1(_("Page %(page)s of %(pages)s")) % {"page": self.page_no(), "pages": "{nb}"},
            align="C",
        )

    def heading(self, text: str):
        if self.get_y() > 250:
            self.add_page()
        self.ln(3)
        self.set_font("Helvetica", "B", 12)
        self.cell(0, 7, latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 9)

    def table(self, headers: list[str], rows: list[list[str]], widths: list[float]):
        """A table whose header is repeated on each page it runs onto."""

        def head():
            self.set_font("Helvetica", "B", 8)
            self.set_fill_color(230, 234, 240)
            for text, width in zip(headers, widths, strict=True):
                self.cell(width, 6, latin1(text), border=1, fill=True, align="C")
            self.ln()
            self.set_font("Helvetica", "", 8)

        head()
        for row in rows:
            if self.get_y() + 6 > self.page_break_trigger:
                self.add_page()
                head()
            for i, (text, width) in enumerate(zip(row, widths, strict=True)):
                text = self.fit(latin1(text), width - 2)
                self.cell(width, 5.5, text, border=1, align="L" if i == 0 else "R")
            self.ln()

    def fit(self, text: str, width: float) -> str:
        """``text`` shortened with "..." to fit ``width`` mm in the current font."""
        if self.get_string_width(text) <= width:
            return text
        while text and self.get_string_width(text + "...") > width:
            text = text[:-1]
        return text + "..."

    def bar_chart(self, series: list[tuple[dt.date, int, int | None]], height: float = 55):
        """Daily energy as vector bars on a scale with four grid lines (no raster image)."""
        if not series:
            return
        top, left = self.get_y() + 2, MARGIN + 14
        width = WIDTH - 14
        highest = max(wh for _day, wh, _peak in series) or 1
        self.set_draw_color(200, 200, 200)
        self.set_font("Helvetica", "", 7)
        for i in range(5):
            y = top + height - height * i / 4
            self.line(left, y, left + width, y)
            self.set_xy(MARGIN, y - 2)
            self.cell(13, 4, _kwh(highest * i // 4), align="R")
        step = width / len(series)
        self.set_fill_color(47, 111, 184)
        for i, (_day, wh, _peak) in enumerate(series):
            bar = height * wh / highest
            if bar > 0:
                self.rect(left + i * step + step * 0.15, top + height - bar, step * 0.7, bar, "F")
        self.set_draw_color(0, 0, 0)
        self.line(left, top + height, left + width, top + height)
        labels = {0, len(series) - 1, len(series) // 2}
        for i in sorted(labels):
            day = series[i][0]
            self.set_xy(left + i * step - 8 + step / 2, top + height + 1)
            self.cell(16, 4, latin1(formats.date_format(day, "SHORT_DATE_FORMAT")), align="C")
        self.set_y(top + height + 7)


def _headline(pdf: SummaryPdf, report: Report):
    now, before = report.totals, report.previous
    rows = [
        (
            _("Energy (kWh)"),
            _kwh(now.energy_wh),
            _kwh(before.energy_wh),
            _change(now.energy_wh, before.energy_wh),
        ),
        (
            _("Sessions"),
            _n(now.sessions_started),
            _n(before.sessions_started),
            _change(now.sessions_started, before.sessions_started),
        ),
        (
            _("Energy per session (kWh)"),
            _kwh(now.energy_per_session_wh),
            _kwh(before.energy_per_session_wh),
            _change(now.energy_per_session_wh, before.energy_per_session_wh),
        ),
        (
            _("Peak power (kW)"),
            _kwh(now.peak_power_w),
            _kwh(before.peak_power_w),
            _change(now.peak_power_w, before.peak_power_w),
        ),
        (_("Uptime"), _pct(now.uptime_percent), _pct(before.uptime_percent), "-"),
        (_("Utilisation"), _pct(now.utilisation_percent), _pct(before.utilisation_percent), "-"),
        (_("Occupancy"), _pct(now.occupancy_percent), _pct(before.occupancy_percent), "-"),
        (
            _("Revenue"),
            _n(now.revenue, 2),
            _n(before.revenue, 2),
            _change(now.revenue, before.revenue),
        ),
        (
            _("CO2e avoided (kg)"),
            _kwh(report.ghg_avoided_g),
            _kwh(report.previous_ghg_avoided_g),
            _change(report.ghg_avoided_g, report.previous_ghg_avoided_g),
        ),
    ]
    pdf.table(
        [_("Measure"), _("This period"), _("Previous period"), _("Change vs previous")],
        [list(row) for row in rows],
        [72, 36, 36, 36],
    )


def _breakdown(pdf: SummaryPdf, title: str, rows: list[BreakdownRow]):
    pdf.heading(title)
    pdf.table(
        [
            title,
            _("Sessions"),
            _("Energy (kWh)"),
            _("kWh/session"),
            _("Avg. min"),
            _("Avg. idle min"),
        ],
        [
            [
                row.label,
                _n(row.sessions),
                _kwh(row.energy_wh),
                _kwh(row.energy_per_session_wh),
                _n(row.average_minutes),
                _n(row.average_idle_minutes),
            ]
            for row in rows
        ],
        [44, 20, 26, 26, 32, 32],
    )


def render(
    *,
    report: Report,
    breakdowns: Breakdowns,
    tenant_name: str,
    scope: str,
    uptime_definition: str,
    ghg_method: str,
    generated_at: dt.datetime,
) -> bytes:
    """The summary as PDF bytes, in the active language."""
    last_day = report.end - dt.timedelta(days=1)
    period = _("%(start)s to %(end)s") % {
        "start": formats.date_format(report.start, "SHORT_DATE_FORMAT"),
        "end": formats.date_format(last_day, "SHORT_DATE_FORMAT"),
    }
    pdf = SummaryPdf(_("Report summary"), f"{tenant_name} - {period}")
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, latin1(_("Report summary")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    previous = _("%(start)s to %(end)s") % {
        "start": formats.date_format(report.previous_start, "SHORT_DATE_FORMAT"),
        "end": formats.date_format(report.start - dt.timedelta(days=1), "SHORT_DATE_FORMAT"),
    }
    for line in (
        f"{tenant_name} - {scope}",
        _("Period: %(period)s (compared with %(previous)s)")
        % {"period": period, "previous": previous},
        _("Generated %(at)s") % {"at": formats.date_format(generated_at, "SHORT_DATETIME_FORMAT")},
    ):
        pdf.multi_cell(0, 5, latin1(line), new_x="LMARGIN", new_y="NEXT")

    pdf.heading(_("Headline figures"))
    _headline(pdf, report)

    pdf.heading(_("Energy per day (kWh)"))
    pdf.bar_chart(report.series)

    group = {"site": _("Site"), "station": _("Station"), "port": _("Port")}.get(
        report.group_by, report.group_by
    )
    pdf.heading(_("By %(group)s") % {"group": group.lower()})
    pdf.table(
        [
            group,
            _("Energy (kWh)"),
            _("Sessions"),
            _("Uptime"),
            _("Utilisation"),
            _("Revenue"),
            _("Change vs previous"),
        ],
        [
            [
                row.label,
                _kwh(row.measures.energy_wh),
                _n(row.measures.sessions_started),
                _pct(row.measures.uptime_percent),
                _pct(row.measures.utilisation_percent),
                _n(row.measures.revenue, 2),
                _change(row.measures.energy_wh, row.previous.energy_wh),
            ]
            for row in report.rows
        ],
        [52, 24, 18, 20, 22, 22, 22],
    )

    _breakdown(pdf, _("Session duration"), breakdowns.by_duration)
    _breakdown(pdf, _("Idle time"), breakdowns.by_idle)
    _breakdown(pdf, _("Driver group"), breakdowns.by_group)
    if breakdowns.by_vehicle is not None:
        _breakdown(pdf, _("Vehicle"), breakdowns.by_vehicle)

    pdf.heading(_("Methods"))
    for text in (uptime_definition, ghg_method):
        pdf.multi_cell(0, 4.5, latin1(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    return bytes(pdf.output())


def uptime_text(rule) -> str:
    """The tenant's uptime definition in words (printed on the summary)."""
    unavailable = {
        "excluded": _(
            "time made unavailable by the operator (planned maintenance) is left "
            "out of the time counted"
        ),
        "up": _("time made unavailable by the operator counts as up"),
        "down": _("time made unavailable by the operator counts as down"),
    }[rule.unavailable]
    offline = {
        "down": _("time offline (no link to the station) counts as down"),
        "excluded": _("time offline is left out of the time counted"),
    }[rule.offline]
    return _(
        "Uptime: time up divided by the time counted. Faulted time counts as down; %(unavailable)s; "
        "%(offline)s; every other state (available, charging, finishing, reserved) counts as up."
    ) % {"unavailable": unavailable, "offline": offline}
