"""The tenant URLs with the power API and portal pages mounted as the lead will add them
(``apps.api.urls.APP_ROUTERS`` and ``path("power/", ...)`` in ``config.urls``): tests use it
until then."""

from django.urls import include, path

from apps.api import urls as api_urls
from config import urls as tenant_urls

api_patterns = [path("", include("apps.power.api.urls")), *api_urls.urlpatterns]

urlpatterns = [
    path("api/v1/", include((api_patterns, "api"))),
    path("power/", include("apps.power.urls")),
    *[pattern for pattern in tenant_urls.urlpatterns if str(pattern.pattern) != "api/v1/"],
]
