"""``/ocpi/`` on a tenant's host: the OCPI endpoints of the CPO (see ``endpoints``)."""

from django.urls import path, re_path

from . import endpoints

app_name = "roaming_ocpi"

urlpatterns = [
    path("versions", endpoints.versions, name="versions"),
    path("<str:version>", endpoints.version_details, name="version_details"),
    path("<str:version>/credentials", endpoints.credentials, name="credentials"),
    path("<str:version>/locations", endpoints.locations, name="locations"),
    path("<str:version>/locations/<str:location_id>", endpoints.location_detail),
    path("<str:version>/locations/<str:location_id>/<str:evse_uid>", endpoints.location_detail),
    path(
        "<str:version>/locations/<str:location_id>/<str:evse_uid>/<str:connector_id>",
        endpoints.location_detail,
    ),
    path("<str:version>/tariffs", endpoints.tariffs, name="tariffs"),
    path("<str:version>/tokens", endpoints.tokens_root, name="tokens_root"),
    path(
        "<str:version>/tokens/<str:country_code>/<str:party_id>/<str:uid>",
        endpoints.token,
        name="token",
    ),
    path("<str:version>/commands", endpoints.tokens_root, name="commands_root"),
    path("<str:version>/commands/<str:command>", endpoints.command, name="command"),
    path(
        "<str:version>/chargingprofiles",
        endpoints.tokens_root,
        name="chargingprofiles_root",
    ),
    path(
        "<str:version>/chargingprofiles/<str:session_id>",
        endpoints.charging_profile,
        name="chargingprofile",
    ),
    re_path(r"^.*$", endpoints.not_found),
]
