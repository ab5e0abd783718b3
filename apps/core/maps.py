"""The map tiles every page with a map uses (the dashboard map, the site picker)."""

from __future__ import annotations

from django.conf import settings

DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_TILE_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)


def map_tiles() -> dict[str, str]:
    """The tile server (MAP_TILE_URL / MAP_TILE_ATTRIBUTION settings; OpenStreetMap by default)."""
    return {
        "url": getattr(settings, "MAP_TILE_URL", "") or DEFAULT_TILE_URL,
        "attribution": getattr(settings, "MAP_TILE_ATTRIBUTION", "") or DEFAULT_TILE_ATTRIBUTION,
    }
