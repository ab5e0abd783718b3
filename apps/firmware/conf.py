"""Platform settings of firmware updates (Django settings, with working defaults).

* ``FIRMWARE_DOWNLOAD_BASE_URL``: where stations fetch images, the platform's public address
  (default ``https://<BASE_DOMAIN>``).
* ``FIRMWARE_LINK_SECONDS``: how long a download link works (default 86400).
* ``FIRMWARE_REPORT_TIMEOUT``: seconds without a status report after which an update in
  flight counts as failed (default 3600).
* ``FIRMWARE_MAX_IMAGE_BYTES``: the largest image accepted (default 512 MiB).
"""

from __future__ import annotations

from django.conf import settings


def download_base_url() -> str:
    default = f"https://{settings.BASE_DOMAIN}"
    return getattr(settings, "FIRMWARE_DOWNLOAD_BASE_URL", default).rstrip("/")


def link_seconds() -> int:
    return int(getattr(settings, "FIRMWARE_LINK_SECONDS", 86400))


def report_timeout() -> float:
    return float(getattr(settings, "FIRMWARE_REPORT_TIMEOUT", 3600))


def max_image_bytes() -> int:
    return int(getattr(settings, "FIRMWARE_MAX_IMAGE_BYTES", 512 * 1024 * 1024))
