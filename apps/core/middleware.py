from django.conf import settings
from django.db import connection


class TenantLanguageMiddleware:
    """A tenant's default language applies until the person picks one (the language cookie).

    Sits before LocaleMiddleware: it replaces the browser's Accept-Language with the tenant's
    language, so LocaleMiddleware resolves cookie > tenant default.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            language = getattr(getattr(connection, "tenant", None), "language", "")
            if language:
                request.META["HTTP_ACCEPT_LANGUAGE"] = language
        return self.get_response(request)
