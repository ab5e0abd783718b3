"""Web security: sign-in lockout (django-axes), the Content-Security-Policy (django-csp 4.x),
API throttling (DRF, counted in the Redis cache) and self-service password reset.

Imported at the end of ``base.py``: the app and middleware lists defined there are extended in
place, so every environment (local, test, production) runs the same protections.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE

__all__ = [
    "AUTHENTICATION_BACKENDS",
    "AXES_LOCKOUT_PARAMETERS",
    "AXES_FAILURE_LIMIT",
    "AXES_COOLOFF_TIME",
    "AXES_RESET_ON_SUCCESS",
    "AXES_USERNAME_FORM_FIELD",
    "AXES_LOCKOUT_TEMPLATE",
    "AXES_HTTP_RESPONSE_CODE",
    "AXES_VERBOSE",
    "AXES_DISABLE_ACCESS_LOG",
    "CONTENT_SECURITY_POLICY",
    "API_THROTTLE_RATES",
    "PASSWORD_RESET_TIMEOUT",
]

from .base import (  # noqa: E402  (the lists are extended in place)
    INSTALLED_APPS,
    LOGGING,
    MAP_TILE_URL,
    MIDDLEWARE,
    REST_FRAMEWORK,
    SHARED_APPS,
    TENANT_APPS,
    env,
)

# --- Sign-in lockout (django-axes) -----------------------------------------------------------
# People live in each tenant's schema (the operators in public), so axes' tables live in every
# schema too: a tenant's failed attempts are recorded, counted and reset in that tenant only,
# and the same e-mail address at two tenants is two different people.
for _apps in (SHARED_APPS, TENANT_APPS, INSTALLED_APPS):
    if "axes" not in _apps:
        _apps.append("axes")
AUTHENTICATION_BACKENDS = [
    # First: refuses any sign-in (even with the right password) while the caller is locked out.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Keyed by e-mail address and client address together: someone guessing from one address is
# stopped, while the same person signing in from elsewhere (and everybody else behind a shared
# address) is not locked out by them.  Behind a proxy, uvicorn's --proxy-headers (with
# --forwarded-allow-ips) makes the client's address REMOTE_ADDR (docs/deployment.md).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"  # Django's AuthenticationForm (the e-mail address)
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# No log row per successful sign-in (the audit log and last_login already say it).
AXES_DISABLE_ACCESS_LOG = True
LOGGING["loggers"]["axes"] = {"level": "WARNING"}  # lockouts are warnings; the rest is chatter

# --- Content-Security-Policy (django-csp 4.x) ------------------------------------------------
INSTALLED_APPS.append("csp")
# Scripts and style sheets only from our own static files (vendored libraries included: no
# CDN); a <style> element needs the request's nonce.  Style *attributes* stay allowed: data-
# driven widths (uptime bars) and the libraries' own markup (Leaflet, uPlot, Swagger UI) use
# them, and they cannot run code.  'self' covers the same host's ws:/wss: (CSP level 3) for the
# live updates.
_tiles = urlsplit(MAP_TILE_URL.replace("{s}.", ""))
_tile_origins = [f"{_tiles.scheme}://{_tiles.netloc}"] if _tiles.netloc else []
if "{s}." in MAP_TILE_URL:  # a tile server with a, b, c subdomains
    _tile_origins.append(f"{_tiles.scheme}://*.{_tiles.netloc}")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:", *_tile_origins],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# After the security middleware, before anything that renders a response.
_security = MIDDLEWARE.index("django.middleware.security.SecurityMiddleware")
MIDDLEWARE.insert(_security + 1, "csp.middleware.CSPMiddleware")
# Last, as axes asks: it turns a locked-out sign-in into the lockout page.
MIDDLEWARE.append("axes.middleware.AxesMiddleware")

# --- API throttling (DRF; counters in the Redis cache, per tenant through its key function) ---
# "address": every request from one client address, counted before authentication, so guessing
# API keys and anonymous floods are limited too; "caller": per API key or signed-in person.
# Over the limit: 429 with Retry-After.  A rate of None switches that limit off.
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = ["apps.api.throttles.CallerRateThrottle"]
API_THROTTLE_RATES = {
    "address": env.str("API_THROTTLE_ADDRESS_RATE", default="1200/min") or None,
    "caller": env.str("API_THROTTLE_CALLER_RATE", default="600/min") or None,
}

# --- Password reset (Django's own views; e-mail through EMAIL_BACKEND) -------------------------
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 60 * 60)  # seconds
