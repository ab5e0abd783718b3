"""The API's permission check: the caller must hold the view's permission on some site.

Which permission an action needs is declared on the viewset (``ScopedViewSet``); the rows the
caller then sees or changes are restricted to the sites where they hold it.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from apps.core.scoping import ANONYMOUS


def actor_of(request):
    return getattr(request, "actor", None) or ANONYMOUS


class HoldsPermission(BasePermission):
    """401 when nobody is signed in, 403 when the caller holds the permission nowhere."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        code = view.required_permission()
        if code is None:  # documented as "any signed-in caller" (e.g. /me/)
            return True
        scope = actor_of(request).scope_for(code)
        if view_needs_all_sites(view):
            # Rows that belong to no site (tokens, keys, webhooks) are the whole tenant's:
            # only a caller holding the permission on every site may see or change them.
            return scope.all_sites
        return not scope.empty


def view_needs_all_sites(view) -> bool:
    queryset = getattr(view, "queryset", None)
    if queryset is None:
        return False
    return getattr(queryset.model, "scope_site_path", "") is None
