"""``{% load power %}{% station_power station %}``: a station's power management on its page —
each port's limit and why, its scheduled start, and whether the station applied it."""

from __future__ import annotations

from django import template

from ..selectors import station_power_rows

register = template.Library()


@register.inclusion_tag("power/_station_power.html", takes_context=True)
def station_power(context, station):
    request = context.get("request")
    actor = getattr(request, "actor", None)
    visible = actor is not None and actor.scope_for("power.view").covers_site(station.site_id)
    return {"station": station, "rows": station_power_rows(station=station) if visible else None}
