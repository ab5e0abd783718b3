from django.apps import AppConfig


class MediaConfig(AppConfig):
    name = "apps.media"
    label = "media"
    verbose_name = "Video content"

    def ready(self) -> None:
        from apps.core import events, permissions

        from . import handlers

        permissions.register("media.view", "See promotional media, playlists and deliveries")
        permissions.register("media.manage", "Upload media, schedule and deliver playlists")
        events.subscribe(events.STATION_CONNECTED, handlers.on_stations_online, batch=True)
        events.subscribe(events.STATION_BOOTED, handlers.on_stations_online, batch=True)
