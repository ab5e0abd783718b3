"""The test suite: same services as development, fast hashing, e-mail kept in memory."""

import os

# Every test run gets its own channel-layer namespace; server processes it starts inherit it.
os.environ.setdefault("CHARGEGRID_CHANNEL_PREFIX", f"cgtest{os.getpid()}")

from .base import *  # noqa: E402, F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = False
# Throttles stay on (their code runs) but out of reach of the suite; tests/security sets its own.
API_THROTTLE_RATES = {"address": "100000/min", "caller": "100000/min"}
