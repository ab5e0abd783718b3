"""The live dashboard and the map.  Both render the current state on the server and then
follow the live feed (``/ws/live/``): no reload, no polling."""

from __future__ import annotations

from django.views.generic import TemplateView

from apps.core import panels
from apps.core.maps import map_tiles
from apps.core.views import PermissionRequiredMixin
from apps.stations.views import live_labels

from .selectors import dashboard_summary, map_stations, start_of_today, tenant_timezone


class DashboardView(PermissionRequiredMixin, TemplateView):
    permission = "stations.view"
    template_name = "dashboard/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        summary = dashboard_summary(actor=self.request.actor)
        context["summary"] = summary
        context["panels"] = panels.page_panels(
            panels.DASHBOARD, obj=None, actor=self.request.actor, site_id=panels.ANY_SITE
        )
        context["labels"] = live_labels()
        context["live_data"] = {
            "ports": summary.ports,
            "sessions": {str(pk): energy for pk, energy in summary.active_session_energy.items()},
            "energy_today_wh": summary.energy_today_wh,
            "online": {str(pk): is_online for pk, is_online in summary.online.items()},
            "day": start_of_today().date().isoformat(),
            "timezone": tenant_timezone().key,
        }
        return context


class MapView(PermissionRequiredMixin, TemplateView):
    permission = "stations.view"
    template_name = "dashboard/map.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        stations = map_stations(actor=self.request.actor)
        context["map_data"] = {"stations": stations, "tiles": map_tiles()}
        context["labels"] = live_labels()
        context["unplaced"] = [s for s in stations if s["lat"] is None or s["lon"] is None]
        context["station_count"] = len(stations)
        return context
