"""Settings shared by every environment; each value comes from the environment.

Split by concern below: services, tenancy, apps, HTTP, i18n, API, Channels, Celery.
Environment-specific modules (local, test, production) only change a few values.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config import embedded

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()


def secret(name: str, default: str | None = None) -> str | None:
    """A secret from ``NAME`` or from the file named by ``NAME_FILE`` (Docker/K8s secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text().strip()
    return os.environ.get(name, default)


# --- Core ---------------------------------------------------------------------------------
SECRET_KEY = secret("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me-" + "x" * 20)
DEBUG = env.bool("DJANGO_DEBUG", default=False)
BASE_DOMAIN = env.str("CHARGEGRID_BASE_DOMAIN", default="localhost")
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=[BASE_DOMAIN, f".{BASE_DOMAIN}", "127.0.0.1"]
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
WSGI_APPLICATION = None
ASGI_APPLICATION = "config.asgi.application"


# --- Services: PostgreSQL and Redis, from the environment ----------------------------------
# Reading settings never starts a server: with the URLs unset, the entry points (manage.py,
# bin/run, bin/test) start embedded ones first and set them (config/embedded.py).
def _required_url(name: str) -> str:
    url = os.environ.get(name)
    if not url:
        raise ImproperlyConfigured(
            f"Set {name}, or start through manage.py / bin/run / bin/test, which start an "
            "embedded PostgreSQL and Redis when DATABASE_URL and REDIS_URL are unset."
        )
    return url


DATABASES = {"default": embedded.parse_database_url(_required_url("DATABASE_URL"))}
# Under ASGI each request runs in its own context and would keep its own connection open:
# persistent connections pile up (Django does not reuse them across ASGI requests).
# Requests close theirs; the OCPP worker threads keep one connection each for their lifetime
# (apps/ocpp/dbpool.py).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)
REDIS_URL = _required_url("REDIS_URL")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}

# --- Tenancy (django-tenants) ----------------------------------------------------------------
TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls"
# New tenants are cloned from a migrated template schema (seconds -> well under one).
TENANT_CREATION_FAKES_MIGRATIONS = True
TENANT_BASE_SCHEMA = "tenant_template"
# Only send SET search_path when the tenant really changes.
TENANT_LIMIT_SET_CALLS = True
SHOW_PUBLIC_IF_NO_TENANT_FOUND = False

SHARED_APPS = [
    "django_tenants",
    "apps.tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_filters",
    "apps.core",
    "apps.accounts",
    "apps.api",
    "apps.simulator",
    "apps.plans",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "apps.accounts",
    "apps.stations",
    "apps.roles",
    "apps.charging",
    "apps.ocpp",
    "apps.audit",
    "apps.monitoring",
    "apps.webhooks",
    "apps.dashboard",
    "apps.power",
    "apps.billing",
    "apps.roaming",
    "apps.energy",
    "apps.reports",
    "apps.notifications",  # issue 15
    "apps.waitlist",
    "apps.valet",
    "apps.firmware",
    "apps.media",
    "apps.access",
    "apps.support",  # issue 20: support cases
    "apps.drivers",  # issue 20: station finder, driver accounts, tips
    "apps.pnc",  # issue 14: Plug & Charge (ISO 15118 certificates)
    "apps.fleet",  # issue 14: fleets, vehicles, cards, usage, telematics
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- HTTP ------------------------------------------------------------------------------------
MIDDLEWARE = [
    "config.streaming.AsyncStreamingMiddleware",  # first: static files and downloads (ASGI)
    "django_tenants.middleware.main.TenantMainMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "apps.core.middleware.TenantLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.roles.middleware.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.tenant",
            ]
        },
    }
]
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = env.path("CHARGEGRID_MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))
MEDIA_URL = "/media/"
SESSION_COOKIE_NAME = "chargegrid_session"
CSRF_COOKIE_NAME = "chargegrid_csrftoken"

# --- Internationalisation: UTC in the database, the site's zone for display ------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_CURRENCY = env.str("CHARGEGRID_DEFAULT_CURRENCY", default="CAD")

# --- E-mail ----------------------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="chargegrid <noreply@localhost>")

# --- REST API --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "chargegrid API",
    "DESCRIPTION": "Multi-tenant EV charging network management (OCPP CSMS).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Several models have a "status" field with different choices; name each set.
    "ENUM_NAME_OVERRIDES": {
        "ConnectorStatusEnum": "apps.stations.choices.ConnectorStatus",
        "RegistrationStatusEnum": "apps.stations.choices.RegistrationStatus",
        "SessionStatusEnum": "apps.charging.choices.SessionStatus",
        "NodeKindEnum": "apps.power.choices.NodeKind",
        "PowerAlertKindEnum": "apps.power.choices.AlertKind",
        "StationEventKindEnum": "apps.ocpp.models.StationEvent.Kind",
        "AlertKindEnum": "apps.monitoring.choices.AlertKind",
        "AlertSeverityEnum": "apps.monitoring.choices.AlertSeverity",
        "RoamingPartnerStatusEnum": "apps.roaming.choices.PartnerStatus",
        "RoamingPushStatusEnum": "apps.roaming.choices.PushStatus",
        "EnergyOptEnum": "apps.energy.choices.Opt",
        "SupportSourceEnum": "apps.support.choices.Source",
        "AccessRuleKindEnum": "apps.access.choices.RuleKind",
        "SupportCasePriorityEnum": "apps.support.choices.CasePriority",
        "BankFileFormatEnum": "apps.billing.choices.BankFileFormat",
        "FleetCardKindEnum": "apps.fleet.choices.CardKind",  # fleet (issue 14)
        "FleetTelemetrySourceEnum": "apps.fleet.choices.TelemetrySource",  # fleet
    },
    # Swagger UI from our own static files (static/vendor/swagger-ui/): never from a CDN.
    "SWAGGER_UI_DIST": f"{STATIC_URL}vendor/swagger-ui",
    "SWAGGER_UI_FAVICON_HREF": f"{STATIC_URL}img/favicon.svg",
    # No badge from the public online validator (BaseLayout shows none; say so anyway).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# --- Channels: the Redis pub/sub layer (see docs/architecture.md for why) -------------------
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        # Redis pub/sub ignores the database number: deployments (and test runs) sharing one
        # Redis are kept apart by the prefix.
        "CONFIG": {
            "hosts": [{"address": REDIS_URL}],
            "prefix": env.str("CHARGEGRID_CHANNEL_PREFIX", default="chargegrid"),
        },
    }
}

# --- Celery ----------------------------------------------------------------------------------
CELERY_BROKER_URL = embedded.celery_broker_url(REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Ride out broker (Redis) outages: reconnect forever (the default gives up after 100 tries,
# about 50 minutes, and the worker exits), also on start-up and after channel errors.  Socket
# timeouts and health checks make a half-open connection (failover, NAT) fail and reconnect
# instead of hanging.  Not worker_cancel_long_running_tasks_on_connection_loss: it crashes the
# worker on reconnection (celery #9250); with acks_late an interrupted task is redelivered and
# tasks are idempotent.  What still kills a worker is left to its supervisor (run_platform,
# systemd: docs/deployment.md).
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_CHANNEL_ERROR_RETRY = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_timeout": 30,
    "socket_connect_timeout": 10,
    "socket_keepalive": True,
    "health_check_interval": 25,
    "retry_on_timeout": True,
}
CELERY_BEAT_SCHEDULE: dict = {}

# --- Logging ---------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("CHARGEGRID_LOG_LEVEL", default="INFO")},
    # The ocpp library logs every frame at INFO; our message log keeps them instead.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "ocpp": {"level": "WARNING"}},
}

# --- OCPP ------------------------------------------------------------------------------------
OCPP_DEFAULT_HEARTBEAT_INTERVAL = env.int("OCPP_HEARTBEAT_INTERVAL", default=300)
# A station silent for this many heartbeat intervals is offline (any traffic counts).
OCPP_OFFLINE_FACTOR = env.float("OCPP_OFFLINE_FACTOR", default=2.5)
OCPP_STALE_SESSION_HOURS = env.int("OCPP_STALE_SESSION_HOURS", default=24)
OCPP_MESSAGE_LOG_DAYS = env.int("OCPP_MESSAGE_LOG_DAYS", default=14)
OCPP_MAX_FRAME_BYTES = env.int("OCPP_MAX_FRAME_BYTES", default=65536)
OCPP_RESPONSE_TIMEOUT = env.float("OCPP_RESPONSE_TIMEOUT", default=30.0)
# Threads (each with one PostgreSQL connection) per ASGI process for stations' ORM work.
OCPP_DB_THREADS = env.int("OCPP_DB_THREADS", default=8)
# Reconnect storms (docs/ocpp.md, Performance): handshakes in progress per process before new
# ones are refused with 503 + Retry-After (1 to OCPP_HANDSHAKE_RETRY_AFTER seconds, spread);
# how long a station's handshake facts may be served from the process's cache.
OCPP_MAX_PENDING_HANDSHAKES = env.int("OCPP_MAX_PENDING_HANDSHAKES", default=128)
OCPP_HANDSHAKE_RETRY_AFTER = env.int("OCPP_HANDSHAKE_RETRY_AFTER", default=10)
OCPP_IDENTITY_CACHE_SECONDS = env.float("OCPP_IDENTITY_CACHE_SECONDS", default=300.0)
# Security profiles 2 and 3 (docs/ocpp.md): TLS ends at a reverse proxy, which says so in
# headers.  Only peers in OCPP_TRUSTED_PROXIES (IPs or CIDRs; empty: nobody) are believed;
# from anyone else these headers are ignored, so a station cannot claim TLS or a certificate.
OCPP_TRUSTED_PROXIES = [
    entry.strip() for entry in env.list("OCPP_TRUSTED_PROXIES", default=[]) if entry.strip()
]
OCPP_FORWARDED_PROTO_HEADER = env.str("OCPP_FORWARDED_PROTO_HEADER", default="X-Forwarded-Proto")
# The proxy's verified client-certificate subject DN (nginx: $ssl_client_s_dn) and the
# verification result (nginx: $ssl_client_verify, "SUCCESS" when the chain checked out).
OCPP_CLIENT_CERT_DN_HEADER = env.str("OCPP_CLIENT_CERT_DN_HEADER", default="X-SSL-Client-S-DN")
OCPP_CLIENT_CERT_VERIFY_HEADER = env.str(
    "OCPP_CLIENT_CERT_VERIFY_HEADER", default="X-SSL-Client-Verify"
)
OCPP_CLIENT_CERT_VERIFY_SUCCESS = env.str("OCPP_CLIENT_CERT_VERIFY_SUCCESS", default="SUCCESS")

# --- Billing (platform-level; tenants set their own prices, taxes and payout account) ---------
BILLING_PLATFORM_FEE_PERCENT = env.str("BILLING_PLATFORM_FEE_PERCENT", default="0")
BILLING_PLATFORM_FEE_FIXED = env.str("BILLING_PLATFORM_FEE_FIXED", default="0")
# The platform's paying bank account, as JSON: {"name": ..., "account_number": ...,
# "clearing_system": "CACPA", "clearing_member_id": ..., "country": "CA"} (or one per currency).
BILLING_PAYOUT_DEBTOR = env.json("BILLING_PAYOUT_DEBTOR", default={})
STRIPE_SECRET_KEY = secret("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = secret("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_API_VERSION = env.str("STRIPE_API_VERSION", default="2024-06-20")

# --- Portal and monitoring -------------------------------------------------------------------
MAP_TILE_URL = env.str("MAP_TILE_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = env.str("MAP_TILE_ATTRIBUTION", default="&copy; OpenStreetMap contributors")
MONITORING_OFFLINE_GRACE_SECONDS = env.int("MONITORING_OFFLINE_GRACE_SECONDS", default=300)
PORTAL_URL_SCHEME = env.str("PORTAL_URL_SCHEME", default="https")

# --- Roaming (OCPI; apps/roaming/conf.py says what each one does) ---------------------------
ROAMING_PUBLIC_BASE_URL = env.str("ROAMING_PUBLIC_BASE_URL", default="")
ROAMING_ALLOW_PRIVATE_NETWORKS = env.bool("ROAMING_ALLOW_PRIVATE_NETWORKS", default=False)
ROAMING_RETRY_BASE_SECONDS = env.float("ROAMING_RETRY_BASE_SECONDS", default=10.0)
ROAMING_AUTHORIZE_TIMEOUT = env.float("ROAMING_AUTHORIZE_TIMEOUT", default=3.0)
ROAMING_PUSH_CONCURRENCY = env.int("ROAMING_PUSH_CONCURRENCY", default=8)
ROAMING_LOCAL_LIST_MAX = env.int("ROAMING_LOCAL_LIST_MAX", default=500)

# --- Support (issue 20; apps/support, docs/support.md) ----------------------------------------
# The domain of the cases' reply addresses (case+<tenant>.<case>.<mac>@<domain>), routed by the
# e-mail provider to /support/inbound/<provider>/ on the base domain; empty: replies are
# threaded by the reference in their subject.
SUPPORT_REPLY_DOMAIN = env.str("SUPPORT_REPLY_DOMAIN", default="")
# Inbound webhooks are refused while no secret is set (anymail's basic auth: "user:password").
ANYMAIL = env.json("ANYMAIL", default={})
ANYMAIL.setdefault("WEBHOOK_SECRET", secret("ANYMAIL_WEBHOOK_SECRET", ""))
# --- Energy (issue 18): OpenADR VEN private keys encrypted at rest (apps/energy/keys.py) ----
# Comma-separated; the first encrypts, all decrypt (rotation). Empty: SECRET_KEY is used.
ENERGY_SECRET_KEYS = [
    key.strip() for key in (secret("ENERGY_SECRET_KEYS", "") or "").split(",") if key.strip()
]

from .security import *  # noqa: E402, F403  (sign-in lockout, CSP, API throttles, password reset)
