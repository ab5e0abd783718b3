"""Parity (issue 13): what a tenant's people configure, they configure in the portal AND
through /api/v1/, under the same permission.  The walk starts from the permission registry:

* every API resource someone writes (a viewset with a ``manage_permission``, or an action
  under a registered write permission) has portal pages that write it, named
  ``<app>:<resource>_<action>`` (house style, rule 11), under the same permission;
* every registered write permission a portal page uses is also used by some API write.

``KNOWN_GAPS`` lists what is not there yet.  The test fails when a new gap appears AND when a
listed one is closed (strike it from the list), so the list always says what is left."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver

from apps.core.permissions import PERMISSIONS

# Portal names that differ from the API's basename.
PORTAL_NAME_OF = {
    "powernode": "node",
    "apikey": "api_key",
    "roamingpartner": "partner",
    "waitlistgroup": "group",
    "waitlistentry": "entry",
    "energyevent": "event",
    "portactivation": "port",
    "tariffassignment": "assignment",
    "sessioncost": "receipt",
    "powerlimit": "limit",
    "webhookdelivery": "delivery",
    "roleassignment": "assignment",
    "taxrate": "tax",
    "billingprofile": "profile",
    "energyven": "ven",  # energy (issue 18): the VEN form
    "accessgroup": "group",  # access
    "accessrule": "rule",
    "accessholiday": "holiday",
    "accessstation": "station",
    "pnctrustedroot": "root",  # pnc
    "fleetcard": "card",  # fleet (issue 14)
    "pncinstalledcertificate": "installed",  # pnc
    "pncstation": "station",
    "pncsettings": "settings",
}

KNOWN_GAPS = {
    # API resources written through the API only (issue 13, still to do)
    ("api", "bmsnode"): "temporary limits set by a building-management system (API by design)",
    # permissions the portal writes under with no API write at all
    ("portal", "valet.act"): "the valet board's actions (moved, reassign, notify)",
    ("portal", "reports.manage"): "the report settings page (uptime, retention, GHG factors)",
}


def _walk(patterns, namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, entry.namespace or namespace)
        elif isinstance(entry, URLPattern):
            yield namespace, entry


def _view_class(entry):
    return getattr(entry.callback, "view_class", None) or getattr(entry.callback, "cls", None)


def write_permissions() -> set[str]:
    return {code for code in PERMISSIONS if code.split(".", 1)[1] not in ("view", "receive")}


def api_writes() -> dict[str, str]:
    """API resource (router basename) -> the permission its writes need."""
    writes = {}
    for _namespace, entry in _walk(get_resolver("config.urls").url_patterns):
        view = _view_class(entry)
        if view is None or not hasattr(view, "manage_permission") or not entry.name:
            continue
        basename = entry.name.split("-", 1)[0]
        codes = {getattr(view, "manage_permission", None)} | set(
            getattr(view, "action_permissions", {}).values()
        )
        for code in codes & write_permissions():
            writes.setdefault(basename, code)
    return writes


def portal_writes() -> dict[str, set[str]]:
    """Portal URL name -> the permission of its view, for views that take a POST."""
    writes = {}
    for namespace, entry in _walk(get_resolver("config.urls").url_patterns):
        view = _view_class(entry)
        if namespace in ("api", "admin") or view is None or not entry.name:
            continue
        if hasattr(view, "manage_permission") or not hasattr(view, "post"):
            continue
        code = getattr(view, "permission", None)
        if code in write_permissions():
            writes[f"{namespace}:{entry.name}"] = code
    return writes


def parity_gaps() -> set[tuple[str, str]]:
    gaps = set()
    portal = portal_writes()
    for basename, code in api_writes().items():
        name = PORTAL_NAME_OF.get(basename, basename)
        pages = [page for page, perm in portal.items() if page.split(":")[1].startswith(name + "_")]
        if not any(portal[page] == code for page in pages):
            gaps.add(("api", basename))
    api_codes = set()
    for _namespace, entry in _walk(get_resolver("config.urls").url_patterns):
        view = _view_class(entry)
        if view is not None and hasattr(view, "manage_permission"):
            api_codes |= {view.manage_permission} | set(
                getattr(view, "action_permissions", {}).values()
            )
    for code in set(portal.values()) - api_codes:
        gaps.add(("portal", code))
    return gaps


def test_the_walk_sees_the_writes_it_must_see():
    api, portal = api_writes(), portal_writes()
    assert api["site"] == "sites.manage" and api["token"] == "tokens.manage"
    assert portal["stations:site_create"] == "sites.manage"
    assert portal["charging:token_edit"] == "tokens.manage"


def test_everything_configured_has_a_portal_page_and_an_api_endpoint():
    gaps = parity_gaps()
    new = gaps - set(KNOWN_GAPS)
    closed = set(KNOWN_GAPS) - gaps
    assert not new, f"Configured on one side only (add the other, or list it): {sorted(new)}"
    assert not closed, f"Closed gaps still listed in KNOWN_GAPS: {sorted(closed)}"
