"""The PDF summary as the portal and the API serve it: the report and its session breakdowns
built for the caller (selectors, through the one scoping path), then rendered (pdf.py) in the
active language."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.scoping import Actor

from . import pdf, selectors


def ghg_method_text() -> str:
    factors = selectors.ghg_factors()[0]
    return _(
        "CO2e avoided = energy / %(ev)s kWh/km x %(baseline)s g/km (the fuel vehicle not "
        "driven) - energy x the grid's factor (%(grid)s g/kWh, or the site's own)."
    ) % {
        "ev": factors.ev_kwh_per_km,
        "baseline": factors.baseline_g_per_km,
        "grid": factors.grid_g_per_kwh,
    }


def summary_pdf(
    *,
    actor: Actor,
    start: dt.date,
    end: dt.date,
    group_by: str,
    site=None,
    tenant_name: str = "",
) -> bytes:
    """The summary of the days [start, end) of ``site`` (or of every site the actor may
    see), its table grouped by ``group_by``."""
    site_ids = [site.pk] if site else None
    report = selectors.report_build(
        actor=actor, start=start, end=end, group_by=group_by, site_ids=site_ids
    )
    breakdowns = selectors.breakdowns_build(actor=actor, start=start, end=end, site_ids=site_ids)
    return pdf.render(
        report=report,
        breakdowns=breakdowns,
        tenant_name=tenant_name,
        scope=site.name if site else _("All sites you may see"),
        uptime_definition=pdf.uptime_text(selectors.uptime_rule()),
        ghg_method=ghg_method_text(),
        generated_at=timezone.localtime(),
    )
