"""Template helpers of the portal: units, the site's local time, sortable column headers."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils import formats
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

register = template.Library()


@register.filter
def grouped(value, places=None) -> str:
    """A number in the reader's locale with its thousands separator: en ``1,010.119``,
    fr ``1 010,119`` (Django's l10n; the setting USE_THOUSAND_SEPARATOR stays off so that
    ids in URLs and data attributes are never grouped). Decimals are rounded half up."""
    if value is None or value == "":
        return "—"
    if places is not None and places != "":
        places = int(places)
        value = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return formats.number_format(value, places, use_l10n=True, force_grouping=True)


@register.filter
def kwh(wh) -> str:
    """Energy in Wh as kWh with three decimals (exact integers stay integers in the database)."""
    if wh is None or wh == "":
        return "—"
    return grouped(Decimal(int(wh)) / 1000, 3) + " kWh"


@register.filter
def kw(watts) -> str:
    if watts is None or watts == "":
        return "—"
    return grouped(Decimal(int(watts)) / 1000, 2) + " kW"


@register.filter
def hours(delta) -> str:
    """A duration as ``3 h 05 min`` (or ``45 min``)."""
    if not isinstance(delta, dt.timedelta):
        return "—"
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return _("%(m)d min") % {"m": minutes}
    return _("%(h)d h %(m)02d min") % {"h": minutes // 60, "m": minutes % 60}


@register.filter
def site_time(value, site) -> str:
    """A timestamp shown in its site's time zone (UTC in the database); without a site, in
    the tenant's, so that rows with and without a site (the audit log) read alike."""
    if not isinstance(value, dt.datetime):
        return "—"
    from django.db import connection

    tenant_zone = getattr(getattr(connection, "tenant", None), "timezone", "")
    name = getattr(site, "timezone", None) or tenant_zone or "UTC"
    try:
        zone = zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = dt.UTC
    return formats.date_format(value.astimezone(zone), "Y-m-d H:i:s T")


@register.filter
def as_json(value, indent=None) -> str:
    """A JSON value as JSON text (not Python's repr)."""
    import json

    return json.dumps(value, ensure_ascii=False, indent=int(indent) if indent else None)


@register.filter
def ocpp_kind(message) -> str:
    """What an OCPP frame is: its action for a CALL, else the kind of answer."""
    if message.action:
        return message.action
    return {2: "Call", 3: "CallResult", 4: "CallError"}.get(message.message_type, "?")


@register.filter
def percent(value) -> str:
    if value is None:
        return "—"
    return grouped(value, 2) + " %"


@register.simple_tag(takes_context=True)
def sort_header(context, field: str, label: str) -> str:
    """A column header that sorts by ``field`` (ascending, then descending), keeping filters."""
    request = context["request"]
    params = request.GET.copy()
    current = params.get("ordering", "")
    target = f"-{field}" if current == field else field
    params["ordering"] = target
    params.pop("page", None)
    arrow = ""
    if current == field:
        arrow = " ▲"
    elif current == f"-{field}":
        arrow = " ▼"
    return format_html(
        '<a class="sort" href="?{}" data-sort="{}">{}{}</a>',
        params.urlencode(),
        field,
        label,
        arrow,
    )


@register.simple_tag
def state_badge(state: str, label: str = "") -> str:
    """A live state as a coloured badge (rendered in Python: it is on every row of a list)."""
    from apps.stations.choices import LiveState

    if not label:
        try:
            label = LiveState(state).label
        except ValueError:
            label = state
    return format_html('<span class="status {0}" data-state="{0}">{1}</span>', state, label)


# (url name, label, permission) of the main navigation; entries whose page does not exist in
# this deployment (an app not installed) are skipped.
NAV = (
    ("dashboard:home", "Dashboard", "stations.view"),
    ("dashboard:map", "Map", "stations.view"),
    ("stations:site_list", "Sites", "sites.view"),
    ("stations:station_list", "Stations", "stations.view"),
    ("charging:session_list", "Sessions", "sessions.view"),
    ("charging:token_list", "Tokens", "tokens.view"),
    ("monitoring:alert_list", "Alerts", "stations.view"),
    ("monitoring:uptime", "Uptime", "stations.view"),
    ("billing:tariff_list", "Billing", "billing.view"),
    ("roaming:partner_list", "Roaming", "roaming.view"),
    ("energy:event_list", "Demand response", "energy.view"),
    ("roles:assignment_list", "People", "people.view"),
    ("audit:entry_list", "Audit log", "audit.view"),
    ("reports:report", "Reports", "reports.view"),
    ("waitlist:group_list", "Waitlist", "waitlist.view"),
    ("valet:home", "Valet", "valet.view"),
    ("plans:overview", "Cloud plans", "plans.view"),
    ("firmware:campaign_list", "Firmware", "firmware.view"),
    ("media:mediaschedule_list", "Video content", "media.view"),  # media
    ("support:case_list", "Support", "support.view"),  # support (issue 20)
    ("webhooks:webhook_list", "Webhooks", "webhooks.view"),  # webhooks (issue 13 parity)
    ("drivers:listing_list", "Drivers", "drivers.view"),  # issue 20
    ("access:rule_list", "Access", "access.view"),  # access
    ("pnc:overview", "Plug & Charge", "pnc.view"),  # pnc (issue 14)
    ("fleet:fleet_list", "Fleets", "fleet.view"),  # fleet (issue 14)
)


def _nav_label(name: str) -> str:
    from django.utils.translation import gettext_lazy, pgettext_lazy

    labels = {
        "Dashboard": gettext_lazy("Dashboard"),
        "Map": gettext_lazy("Map"),
        "Sites": gettext_lazy("Sites"),
        "Stations": gettext_lazy("Stations"),
        "Sessions": gettext_lazy("Sessions"),
        "Tokens": gettext_lazy("Tokens"),
        "Alerts": gettext_lazy("Alerts"),
        "Uptime": gettext_lazy("Uptime"),
        "People": gettext_lazy("People"),
        "Billing": gettext_lazy("Billing"),
        "Roaming": gettext_lazy("Roaming"),
        "Demand response": gettext_lazy("Demand response"),
        "Audit log": pgettext_lazy("navigation", "Audit log"),
        "Reports": gettext_lazy("Reports"),
        "Waitlist": gettext_lazy("Waitlist"),
        "Valet": gettext_lazy("Valet board"),
        "Cloud plans": gettext_lazy("Cloud plans"),
        "Firmware": gettext_lazy("Firmware"),
        "Video content": gettext_lazy("Video content"),  # media
        "Support": gettext_lazy("Support"),
        "Webhooks": gettext_lazy("Webhooks"),
        "Drivers": gettext_lazy("Drivers"),  # issue 20
        "Access": gettext_lazy("Access control"),  # access
        "Plug & Charge": gettext_lazy("Plug & Charge"),  # pnc (issue 14)
        "Fleets": gettext_lazy("Fleets"),  # fleet (issue 14)
    }
    return labels[name]


@register.inclusion_tag("core/nav.html", takes_context=True)
def portal_nav(context) -> dict:
    from django.urls import NoReverseMatch, reverse

    request = context["request"]
    actor = getattr(request, "actor", None)
    items = []
    for name, label, permission in NAV:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        if actor is None:
            continue
        try:
            allowed = not actor.scope_for(permission).empty
        except KeyError:  # a permission of an app that is not installed
            continue
        if allowed:
            active = request.path == url or (url != "/" and request.path.startswith(url))
            items.append({"url": url, "label": _nav_label(label), "active": active})
    # The most specific match wins (e.g. Uptime under Alerts).
    matches = [item for item in items if item["active"]]
    if len(matches) > 1:
        best = max(matches, key=lambda item: len(item["url"]))
        for item in matches:
            item["active"] = item is best
    return {"items": items}


@register.filter
def station_live(station) -> str:
    """A station's live state from its (prefetched) ports."""
    from apps.dashboard.selectors import station_state

    return station_state(
        is_online=station.is_online, port_states=[port.live_state for port in station.evses.all()]
    )


@register.simple_tag
def state_label(state: str) -> str:
    from apps.stations.choices import LiveState

    try:
        return str(LiveState(state).label)
    except ValueError:
        return state


# --- Codes in words (apps.stations.words; commands' engineer, issue 13) ----------------------
@register.filter
def status_words(status: str) -> str:
    """A status of the history in the reader's words, not the OCPP code."""
    from apps.stations.words import status_words as words

    return words(status)


@register.filter
def fault_words(error_code: str, info: str = "") -> str:
    """The station's own text, else its error code in words ("" for NoError)."""
    from apps.stations.words import fault_words as words

    return words(error_code or "", info or "")


AUDIT_VERBS = {
    "create": gettext_lazy("created"),
    "update": gettext_lazy("changed"),
    "delete": gettext_lazy("deleted"),
    "archive": gettext_lazy("archived"),
    "revoke": gettext_lazy("revoked"),
    "grant": gettext_lazy("granted"),
}


@register.filter
def audit_action_words(action: str) -> str:
    """``tariff_assignment.create`` → "Tariff assignment created" (the code stays in the
    page's markup for those who search the log by it)."""
    thing, _dot, verb = (action or "").rpartition(".")
    if not thing:
        return action
    what = AUDIT_VERBS.get(verb)
    thing_words = thing.replace("_", " ").replace(".", " ").capitalize()
    if what is None:
        return f"{thing_words}: {verb.replace('_', ' ')}"
    return f"{thing_words} {what}"
