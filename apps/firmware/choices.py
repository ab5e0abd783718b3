from django.db import models
from django.utils.translation import gettext_lazy as _


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class TargetStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Sending the update")
    SENT = "sent", _("Update accepted")
    DOWNLOADING = "downloading", _("Downloading")
    DOWNLOADED = "downloaded", _("Downloaded")
    INSTALLING = "installing", _("Installing")
    UPGRADED = "upgraded", _("Upgraded")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")
    CANCELLED = "cancelled", _("Cancelled")


IN_FLIGHT = {
    TargetStatus.SENDING,
    TargetStatus.SENT,
    TargetStatus.DOWNLOADING,
    TargetStatus.DOWNLOADED,
    TargetStatus.INSTALLING,
}
FINAL = {TargetStatus.UPGRADED, TargetStatus.FAILED, TargetStatus.SKIPPED, TargetStatus.CANCELLED}

# What a station's FirmwareStatusNotification (1.6 and 2.0.1 words) means for its target:
# (status, progress percent).  Failures are listed in FAILURES.
STATION_STATUS: dict[str, tuple[str, int]] = {
    "DownloadScheduled": (TargetStatus.SENT, 10),
    "Downloading": (TargetStatus.DOWNLOADING, 30),
    "DownloadPaused": (TargetStatus.DOWNLOADING, 30),
    "Downloaded": (TargetStatus.DOWNLOADED, 50),
    "SignatureVerified": (TargetStatus.DOWNLOADED, 60),
    "InstallScheduled": (TargetStatus.DOWNLOADED, 65),
    "Installing": (TargetStatus.INSTALLING, 80),
    "InstallRebooting": (TargetStatus.INSTALLING, 90),
}
INSTALLED = "Installed"
FAILURES = {
    "DownloadFailed": _("The download failed"),
    "InvalidSignature": _("The signature is invalid"),
    "InstallationFailed": _("The installation failed"),
    "InstallVerificationFailed": _("The installed image did not verify"),
}
