"""Platform settings of cloud plans, read from Django settings with working defaults.

* ``PLANS_GRACE_DAYS``: days after a plan's expiry during which its ports still start
  sessions (default 30).
* ``PLANS_REMINDER_DAYS``: days before expiry when the tenant's admins are reminded
  (default ``(60, 30, 7)``).
"""

from __future__ import annotations

from django.conf import settings


def grace_days() -> int:
    return int(getattr(settings, "PLANS_GRACE_DAYS", 30))


def reminder_days() -> tuple[int, ...]:
    return tuple(sorted(getattr(settings, "PLANS_REMINDER_DAYS", (60, 30, 7)), reverse=True))
