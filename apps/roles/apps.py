from django.apps import AppConfig


class RolesConfig(AppConfig):
    name = "apps.roles"
    label = "roles"
    verbose_name = "Roles and API keys"

    def ready(self) -> None:
        from apps.core.permissions import register

        register("people.view", "See the people of the network and their roles")
        register("people.manage", "Invite people, grant and revoke roles")
        register("api_keys.manage", "Create and revoke API keys")
