from django.db import connection
from django.utils.functional import SimpleLazyObject

from apps.core.scoping import ANONYMOUS

from .selectors import UserActor


class ActorMiddleware:
    """``request.actor``: who is acting, for ``restrict()``.  API authentication replaces it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.actor = SimpleLazyObject(lambda: _actor_for(request))
        return self.get_response(request)


def _actor_for(request):
    user = getattr(request, "user", None)
    # Roles exist only in tenant schemas; the public schema's operators use the admin.
    if user is None or not user.is_authenticated or connection.schema_name == "public":
        return ANONYMOUS
    return UserActor(user)
