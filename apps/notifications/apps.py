from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from apps.core import events
        from apps.core.permissions import register

        from . import handlers

        register("notifications.view", "See the notifications sent to drivers and their delivery")
        # In the asker's transaction: the message rows commit (or roll back) with the news.
        events.subscribe(
            events.NOTIFICATION_REQUESTED, handlers.on_notification_requested, in_transaction=True
        )
        # drivers (issue 20): a driver's notification preferences and language
        events.subscribe(
            events.CONTACT_PREFERENCES, handlers.on_contact_preferences, in_transaction=True
        )
