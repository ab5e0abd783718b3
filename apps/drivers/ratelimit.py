"""Abuse limits: a fixed-window counter in the cache (Redis; keys are per tenant through the
cache's key function), shared by every process.  ``allow`` counts the attempt and says whether
it is within the limit."""

from __future__ import annotations

import time

from django.core.cache import cache


def _key(name: str, who: str, window_seconds: int) -> str:
    return f"drivers.rl:{name}:{who}:{int(time.time() // window_seconds)}"


def allow(name: str, who: str, *, limit: int, window_seconds: int) -> bool:
    key = _key(name, who, window_seconds)
    if cache.add(key, 1, timeout=window_seconds + 5):
        return limit >= 1
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: a new window
        cache.set(key, 1, timeout=window_seconds + 5)
        count = 1
    return count <= limit


def reset(name: str, who: str, *, window_seconds: int) -> None:
    """Forget the current window's count (an operator lifting a limit; tests)."""
    cache.delete(_key(name, who, window_seconds))
