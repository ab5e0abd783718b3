"""Notification settings, read from Django settings with working defaults:

* ``NOTIFICATIONS_SMS_BACKEND``: dotted path of the SMS backend (default the console one);
  ``apps.notifications.sms.TwilioSmsBackend`` speaks Twilio's Messages API (or any provider
  with the same API at ``NOTIFICATIONS_SMS_API_BASE``) with ``NOTIFICATIONS_SMS_ACCOUNT``,
  ``NOTIFICATIONS_SMS_TOKEN`` and ``NOTIFICATIONS_SMS_FROM``.
* ``NOTIFICATIONS_VAPID_PRIVATE_KEY`` / ``NOTIFICATIONS_VAPID_PUBLIC_KEY`` (base64url) and
  ``NOTIFICATIONS_VAPID_SUBJECT`` (``mailto:...``): Web Push; without keys push is off.
* ``NOTIFICATIONS_MAX_ATTEMPTS`` (default 5) and ``NOTIFICATIONS_RETRY_SECONDS`` (default 30:
  the first retry's delay, doubled each time).
E-mail goes through Django's ``EMAIL_BACKEND`` (in production an anymail backend, e.g.
``anymail.backends.amazon_ses.EmailBackend``, with its ``ANYMAIL`` setting).
"""

from __future__ import annotations

from django.conf import settings


def get(name: str, default=None):
    return getattr(settings, f"NOTIFICATIONS_{name}", default)


def max_attempts() -> int:
    return int(get("MAX_ATTEMPTS", 5))


def retry_seconds(attempts: int) -> int:
    """Back-off after the ``attempts``-th failure: 30 s, 60 s, 120 s..."""
    return int(get("RETRY_SECONDS", 30)) * 2 ** max(attempts - 1, 0)


def vapid_public_key() -> str:
    return get("VAPID_PUBLIC_KEY", "") or ""
