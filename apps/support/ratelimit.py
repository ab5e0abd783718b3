"""Rate limits of the public pages (no sign-in): a fixed window counted in the cache (Redis),
per key.  ``SUPPORT_OPEN_LIMITS`` overrides the defaults: opening cases per address and per
e-mail, replies on a driver's page per case."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

DEFAULT_LIMITS = {
    "open_ip": (10, 3600),  # cases opened from one address per hour
    "open_email": (5, 3600),  # cases opened for one e-mail address per hour
    "reply_case": (30, 3600),  # driver's messages on one case per hour
}


def limit_of(name: str) -> tuple[int, int]:
    limits = {**DEFAULT_LIMITS, **getattr(settings, "SUPPORT_RATE_LIMITS", {})}
    count, window = limits[name]
    return int(count), int(window)


def hit(name: str, key: str) -> bool:
    """Count one request; False once the window's allowance is spent."""
    count, window = limit_of(name)
    cache_key = f"support:rl:{name}:{key}"
    if cache.add(cache_key, 1, timeout=window):
        return True
    try:
        used = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=window)
        return True
    return used <= count
