"""Parts of the core's pages that feature apps contribute (style guide, point 13).

The station, site and session pages belong to the core; what a feature shows there
(monitoring's alerts and remote control on a station, power's link on a site) is a *panel* the
feature registers from its ``AppConfig.ready``, so the core's views and templates never name
a feature app.  The model is NetBox's ``PluginTemplateExtension`` (``left_page()``,
``right_page()``, ``buttons()``), with declared data instead of methods::

    panels.register(panels.Panel(
        page=panels.STATION, slot="column", name="alerts",
        template_name="monitoring/_station_alerts.html",
        permission="stations.view", context=station_alerts_panel,
    ))

A panel names its page, the slot it fills (``PAGES`` lists each page's slots), the permission
it needs on the page's site (a tuple: any one of them), a template and, if it needs data, a
function ``context(*, obj, actor) -> dict`` that reads through the one scoping path
(``Model.objects.restrict(actor, ...)``).  A page includes the panels its actor may see, in
``order`` then registration order; each template gets the page's context plus ``panel``
(what the function returned).

Views that act on a core object but belong to a feature (remote control of a station) are
added to the core app's URLconf with ``register_route``, keeping the core's URL names (as
NetBox's ``register_model_view`` adds views to a model's URLs).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern

from .scoping import Actor

STATION = "station"
SITE = "site"
SESSION = "session"
DASHBOARD = "dashboard"  # a feature's page (apps.dashboard) that others add to the same way

# The site of a page that is about no one site (the dashboard): a panel shows when the actor
# holds its permission on some site, and its context reads through ``restrict``.
ANY_SITE = object()

# The slots of each page, from the top of the page down.
PAGES: dict[str, tuple[str, ...]] = {
    # facts: rows of the Details list (<dt>/<dd>); full: full-width cards below the sessions;
    # column: cards in the columns beside Firmware.
    STATION: ("facts", "full", "column"),
    # links: links under the site's name.
    SITE: ("links",),
    # facts: rows of the session's facts; full: cards below the power curve.
    SESSION: ("facts", "full"),
    # figures: tiles after the dashboard's own; column: cards beside the live activity.
    DASHBOARD: ("figures", "column"),
}

PanelContext = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class Panel:
    page: str
    slot: str
    name: str
    template_name: str
    permission: str | tuple[str, ...]
    context: PanelContext | None = None
    order: int = 100

    @property
    def permissions(self) -> tuple[str, ...]:
        return (self.permission,) if isinstance(self.permission, str) else self.permission

    def visible_to(self, actor: Actor, site_id: int | None | object) -> bool:
        if site_id is ANY_SITE:
            return any(not actor.scope_for(code).empty for code in self.permissions)
        return any(actor.scope_for(code).covers_site(site_id) for code in self.permissions)


@dataclass(frozen=True)
class PanelView:
    """One panel as a page includes it: its template and its context."""

    name: str
    template_name: str
    context: dict[str, Any]


_panels: dict[str, list[Panel]] = defaultdict(list)
_routes: dict[str, list[URLPattern]] = defaultdict(list)


def register(panel: Panel) -> None:
    slots = PAGES.get(panel.page)
    if slots is None:
        raise ValueError(f"Unknown page {panel.page!r}")
    if panel.slot not in slots:
        raise ValueError(f"Page {panel.page!r} has no slot {panel.slot!r} (slots: {slots})")
    if not panel.permissions:
        raise ValueError(f"Panel {panel.name!r} must name the permission it needs")
    registered = _panels[panel.page]
    for index, existing in enumerate(registered):
        if existing.name == panel.name:  # registering again (tests, reloads) replaces it
            registered[index] = panel
            return
    registered.append(panel)


def unregister(page: str, name: str) -> None:
    _panels[page] = [panel for panel in _panels[page] if panel.name != name]


def registered(page: str) -> list[Panel]:
    """Every panel of ``page``, in display order."""
    # sorted() is stable: equal orders keep registration order
    return sorted(_panels[page], key=lambda panel: panel.order)


def visible(page: str, *, actor: Actor, site_id: int | None | object) -> list[Panel]:
    """The panels of ``page`` that ``actor`` may see on the site ``site_id``."""
    return [panel for panel in registered(page) if panel.visible_to(actor, site_id)]


def page_panels(
    page: str, *, obj: Any, actor: Actor, site_id: int | None | object
) -> dict[str, list[PanelView]]:
    """What a page includes: ``{slot: [PanelView, ...]}`` for every slot of the page."""
    result: dict[str, list[PanelView]] = {slot: [] for slot in PAGES[page]}
    for panel in visible(page, actor=actor, site_id=site_id):
        context = panel.context(obj=obj, actor=actor) if panel.context is not None else {}
        result[panel.slot].append(PanelView(panel.name, panel.template_name, context))
    return result


def register_route(app_name: str, pattern: URLPattern) -> None:
    """Add a URL pattern to the core app ``app_name``'s URLconf (under its namespace)."""
    routes = _routes[app_name]
    routes[:] = [route for route in routes if route.name != pattern.name] + [pattern]


def routes(app_name: str) -> list[URLPattern]:
    """The patterns features added to ``app_name`` (its ``urls.py`` appends them)."""
    return list(_routes[app_name])
