from django.db import models
from django.utils.translation import gettext_lazy as _


class BuiltinRole(models.TextChoices):
    SITE_ADMIN = "site-admin", _("Site admin")
    DELEGATE_CONFIGURE = "delegate-configure", _("Delegate: configure stations")
    DELEGATE_REPORTS = "delegate-reports", _("Delegate: receive reports")
    VIEWER = "viewer", _("View only")
    FLEET_MANAGER = "fleet-manager", _("Fleet manager")
    VALET = "valet", _("Valet")
    DRIVER = "driver", _("Driver")


BUILTIN_PERMISSIONS: dict[str, list[str]] = {
    BuiltinRole.SITE_ADMIN: ["*"],
    BuiltinRole.DELEGATE_CONFIGURE: [
        "sites.view",
        "stations.view",
        "stations.configure",
        "stations.command",
        "sessions.view",
        "power.view",
        "alerts.manage",
    ],
    BuiltinRole.DELEGATE_REPORTS: [
        "sites.view",
        "stations.view",
        "sessions.view",
        "reports.view",
        "reports.receive",
        "power.view",
    ],
    BuiltinRole.VIEWER: ["sites.view", "stations.view", "sessions.view", "power.view"],
    BuiltinRole.FLEET_MANAGER: ["sites.view", "stations.view", "sessions.view", "power.view"],
    BuiltinRole.VALET: ["sites.view", "stations.view", "valet.view", "valet.act"],
    BuiltinRole.DRIVER: [],
}
