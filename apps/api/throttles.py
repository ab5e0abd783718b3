"""API rate limits: per client address (before authentication) and per caller (API key or
signed-in person).  Counted in the default cache (Redis, whose key function puts each tenant's
counters apart); the rates are read from ``settings.API_THROTTLE_RATES`` on every request.

Over a limit the answer is 429 with ``Retry-After`` (seconds) in the API's error format.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATES.get(self.scope)


class AddressRateThrottle(SettingsRateThrottle):
    """Every request from one address, counted before anyone is authenticated: guessing API
    keys and anonymous floods are limited too."""

    scope = "address"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class CallerRateThrottle(SettingsRateThrottle):
    """Per API key (each key its own allowance) or per signed-in person."""

    scope = "caller"

    def get_cache_key(self, request, view) -> str | None:
        actor = getattr(request, "actor", None)
        key = getattr(actor, "key", None)
        if key is not None:
            ident = f"key:{key.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            return None  # nobody: the address limit applies
        return self.cache_format % {"scope": self.scope, "ident": ident}
