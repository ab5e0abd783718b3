"""The isolation table: every API endpoint, the permission it needs, and what each persona gets.

``TABLE`` lists every route under ``/api/v1/`` (method + path as the router spells it).  The
suite fails when a route exists that the table does not list (so a new endpoint cannot ship
without these checks) and when the OpenAPI schema documents a different permission.

For each endpoint: nobody signed in, a user of another tenant (session or API key) and a user
without the role get 401/403; a key lacking the permission gets 403; the delegate (site A1
only) and a key limited to site A1 see only A1's rows and get 404 for A2's objects; the owner
sees everything; and on tenant beta's host, lists hold exactly beta's rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.db import connection
from django.urls import URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from apps.accounts.models import User
from apps.core.permissions import PERMISSIONS
from apps.roles.selectors import UserActor
from apps.roles.services import api_key_create
from tests.api.conftest import api_client, results

PREFIX = "/api/v1/"


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    permission: str | None  # None: any signed-in caller
    target: str | None = None  # the inventory object a {pk} names
    rows: str | None = None  # how a list row leads to its site: id, site, station, evse
    command: bool = False  # talks to a station: no positive request in this table

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


E = Endpoint
SITE_VIEW, SITE_MANAGE = "sites.view", "sites.manage"
ST_VIEW, ST_CONF, ST_CMD = "stations.view", "stations.configure", "stations.command"
SESSIONS, TOK_VIEW, TOK_MANAGE = "sessions.view", "tokens.view", "tokens.manage"
HOOK_VIEW, HOOK_MANAGE = "webhooks.view", "webhooks.manage"
POWER_VIEW, POWER_MANAGE = "power.view", "power.manage"
BILL_VIEW, BILL_MANAGE = "billing.view", "billing.manage"
STATION = "/api/v1/stations/{pk}/"
ROAM_VIEW, ROAM_MANAGE = "roaming.view", "roaming.manage"
EN_VIEW, EN_MANAGE, EN_BMS = "energy.view", "energy.manage", "energy.bms"
REPORTS_VIEW = "reports.view"
WL_VIEW, WL_MANAGE = "waitlist.view", "waitlist.manage"  # waitlist
PLANS_VIEW, PLANS_MANAGE = "plans.view", "plans.manage"  # plans
FW_VIEW, FW_MANAGE = "firmware.view", "firmware.manage"  # firmware
MEDIA_VIEW, MEDIA_MANAGE = "media.view", "media.manage"  # media
SUP_VIEW, SUP_OPEN, SUP_ANSWER, SUP_MANAGE = (  # support
    "support.view",
    "support.open",
    "support.answer",
    "support.manage",
)
CASE = "/api/v1/support/cases/{pk}/"
DR_VIEW, DR_MANAGE = "drivers.view", "drivers.manage"  # drivers
AC_VIEW, AC_MANAGE = "access.view", "access.manage"  # access
FL_VIEW, FL_MANAGE = "fleet.view", "fleet.manage"  # fleet (issue 14)

TABLE: list[Endpoint] = [
    # sites
    E("GET", "/api/v1/sites/", SITE_VIEW, rows="id"),
    E("POST", "/api/v1/sites/", SITE_MANAGE),
    E("GET", "/api/v1/sites/{pk}/", SITE_VIEW, target="site"),
    E("PUT", "/api/v1/sites/{pk}/", SITE_MANAGE, target="site"),
    E("PATCH", "/api/v1/sites/{pk}/", SITE_MANAGE, target="site"),
    E("DELETE", "/api/v1/sites/{pk}/", SITE_MANAGE, target="site"),
    # stations, ports, connectors, status history
    E("GET", "/api/v1/stations/", ST_VIEW, rows="site"),
    E("POST", "/api/v1/stations/", ST_CONF),
    E("GET", STATION, ST_VIEW, target="station"),
    E("PATCH", STATION, ST_CONF, target="station"),
    E("GET", "/api/v1/evses/", ST_VIEW, rows="station"),
    E("GET", "/api/v1/evses/{pk}/", ST_VIEW, target="evse"),
    E("GET", "/api/v1/connectors/", ST_VIEW, rows="evse"),
    E("GET", "/api/v1/connectors/{pk}/", ST_VIEW, target="connector"),
    E("GET", "/api/v1/status-changes/", ST_VIEW, rows="station"),
    E("GET", "/api/v1/status-changes/{pk}/", ST_VIEW, target="status_change"),
    # remote commands
    E("POST", STATION + "remote-start/", ST_CMD, target="station", command=True),
    E("POST", STATION + "remote-stop/", ST_CMD, target="station", command=True),
    E("POST", STATION + "reset/", ST_CMD, target="station", command=True),
    E("POST", STATION + "unlock/", ST_CMD, target="station", command=True),
    E("POST", STATION + "availability/", ST_CMD, target="station", command=True),
    E("POST", STATION + "trigger-message/", ST_CMD, target="station", command=True),
    E("GET", STATION + "configuration/", ST_CONF, target="station", command=True),
    E("POST", STATION + "configuration/", ST_CONF, target="station", command=True),
    E("POST", STATION + "ocpp-call/", "ocpp.raw_call", target="station", command=True),
    E("POST", STATION + "rotate-password/", ST_CONF, target="station", command=True),
    E("GET", STATION + "message-limits/", ST_CONF, target="station"),
    E("PUT", STATION + "message-limits/", ST_CONF, target="station"),
    # Command forms (reservations, power limits, local list, logs, firmware, screen, data)
    E("POST", STATION + "reserve/", ST_CMD, target="station", command=True),
    E("POST", STATION + "cancel-reservation/", ST_CMD, target="station", command=True),
    E("POST", STATION + "charging-profile/", ST_CMD, target="station", command=True),
    E("POST", STATION + "clear-charging-profile/", ST_CMD, target="station", command=True),
    E("GET", STATION + "composite-schedule/", ST_CMD, target="station", command=True),
    E("GET", STATION + "local-list-version/", ST_CMD, target="station", command=True),
    E("POST", STATION + "local-list/", ST_CMD, target="station", command=True),
    E("POST", STATION + "upload-logs/", ST_CMD, target="station", command=True),
    E("POST", STATION + "update-firmware/", ST_CMD, target="station", command=True),
    E("POST", STATION + "display-message/", ST_CMD, target="station", command=True),
    E("POST", STATION + "display-messages/", ST_CMD, target="station", command=True),
    E("POST", STATION + "clear-display-message/", ST_CMD, target="station", command=True),
    E("POST", STATION + "data-transfer/", ST_CMD, target="station", command=True),
    E("POST", STATION + "report/", ST_CONF, target="station", command=True),
    # OCPP logs
    E("GET", "/api/v1/ocpp-messages/", ST_VIEW, rows="station"),
    E("GET", "/api/v1/ocpp-messages/{pk}/", ST_VIEW, target="message"),
    E("GET", "/api/v1/station-events/", ST_VIEW, rows="station"),
    E("GET", "/api/v1/station-events/{pk}/", ST_VIEW, target="station_event"),
    # sessions and meter values
    E("GET", "/api/v1/sessions/", SESSIONS, rows="site"),
    E("GET", "/api/v1/sessions/{pk}/", SESSIONS, target="session"),
    E("GET", "/api/v1/sessions/{pk}/meter-values/", SESSIONS, target="session"),
    E("GET", "/api/v1/meter-values/", SESSIONS, rows="station"),
    E("GET", "/api/v1/meter-values/{pk}/", SESSIONS, target="meter_value"),
    # tokens (tenant-wide)
    E("GET", "/api/v1/tokens/", TOK_VIEW, rows="tenant"),
    E("POST", "/api/v1/tokens/", TOK_MANAGE),
    E("GET", "/api/v1/tokens/{pk}/", TOK_VIEW, target="token"),
    E("PUT", "/api/v1/tokens/{pk}/", TOK_MANAGE, target="token"),
    E("PATCH", "/api/v1/tokens/{pk}/", TOK_MANAGE, target="token"),
    E("DELETE", "/api/v1/tokens/{pk}/", TOK_MANAGE, target="token"),
    # people, roles, API keys (tenant-wide)
    E("GET", "/api/v1/roles/", "people.view", rows="tenant"),
    E("GET", "/api/v1/roles/{pk}/", "people.view", target="role"),
    E("GET", "/api/v1/role-assignments/", "people.view", rows="tenant"),
    E("GET", "/api/v1/role-assignments/{pk}/", "people.view", target="role_assignment"),
    E("GET", "/api/v1/api-keys/", "api_keys.manage", rows="tenant"),
    E("POST", "/api/v1/api-keys/", "api_keys.manage"),
    E("GET", "/api/v1/api-keys/{pk}/", "api_keys.manage", target="api_key"),
    E("POST", "/api/v1/api-keys/{pk}/revoke/", "api_keys.manage", target="api_key"),
    # audit log (entries about a site are that site's; the rest tenant-wide)
    E("GET", "/api/v1/audit-log/", "audit.view", rows="site"),
    E("GET", "/api/v1/audit-log/{pk}/", "audit.view", target="audit_entry"),
    # webhooks (tenant-wide)
    E("GET", "/api/v1/webhooks/", HOOK_VIEW, rows="tenant"),
    E("POST", "/api/v1/webhooks/", HOOK_MANAGE),
    E("GET", "/api/v1/webhooks/{pk}/", HOOK_VIEW, target="webhook"),
    E("PUT", "/api/v1/webhooks/{pk}/", HOOK_MANAGE, target="webhook"),
    E("PATCH", "/api/v1/webhooks/{pk}/", HOOK_MANAGE, target="webhook"),
    E("DELETE", "/api/v1/webhooks/{pk}/", HOOK_MANAGE, target="webhook"),
    E("POST", "/api/v1/webhooks/{pk}/ping/", HOOK_MANAGE, target="webhook"),
    E("POST", "/api/v1/webhooks/{pk}/rotate-secret/", HOOK_MANAGE, target="webhook"),
    E("GET", "/api/v1/webhook-deliveries/", HOOK_VIEW, rows="tenant"),
    E("GET", "/api/v1/webhook-deliveries/{pk}/", HOOK_VIEW, target="delivery"),
    E(
        "POST",
        "/api/v1/webhook-deliveries/{pk}/redeliver/",
        HOOK_VIEW.replace("view", "manage"),
        target="delivery",
    ),
    # power management (the electrical tree is per site)
    E("GET", "/api/v1/power-nodes/", POWER_VIEW, rows="site"),
    E("POST", "/api/v1/power-nodes/", POWER_MANAGE),
    E("GET", "/api/v1/power-nodes/{pk}/", POWER_VIEW, target="power_node"),
    E("PUT", "/api/v1/power-nodes/{pk}/", POWER_MANAGE, target="power_node"),
    E("PATCH", "/api/v1/power-nodes/{pk}/", POWER_MANAGE, target="power_node"),
    E("DELETE", "/api/v1/power-nodes/{pk}/", POWER_MANAGE, target="power_node"),
    E("GET", "/api/v1/power-nodes/{pk}/load/", POWER_VIEW, target="power_node"),
    E("POST", "/api/v1/power-nodes/{pk}/limit/", POWER_MANAGE, target="power_node"),
    E("POST", "/api/v1/power-nodes/{pk}/building-load/", POWER_MANAGE, target="power_node"),
    E("GET", "/api/v1/power-limits/", POWER_VIEW, rows="node"),
    E("GET", "/api/v1/power-limits/{pk}/", POWER_VIEW, target="power_limit"),
    E("POST", "/api/v1/power-limits/{pk}/end/", POWER_MANAGE, target="power_limit"),
    E("GET", "/api/v1/power-allocations/", POWER_VIEW, rows="evse"),
    E("GET", "/api/v1/power-allocations/{pk}/", POWER_VIEW, target="power_allocation"),
    E("GET", "/api/v1/power-alerts/", POWER_VIEW, rows="station"),
    E("GET", "/api/v1/power-alerts/{pk}/", POWER_VIEW, target="power_alert"),
    # billing (tariffs and payouts are tenant-wide; assignments and costs belong to a site)
    E("GET", "/api/v1/billing/tariffs/", BILL_VIEW, rows="tenant"),
    E("POST", "/api/v1/billing/tariffs/", BILL_MANAGE),
    E("GET", "/api/v1/billing/tariffs/{pk}/", BILL_VIEW, target="tariff"),
    E("POST", "/api/v1/billing/tariffs/{pk}/versions/", BILL_MANAGE, target="tariff"),
    E("GET", "/api/v1/billing/tariffs/{pk}/ocpi/", BILL_VIEW, target="tariff"),
    E("GET", "/api/v1/billing/tariff-assignments/", BILL_VIEW, rows="site"),
    E("POST", "/api/v1/billing/tariff-assignments/", BILL_MANAGE),
    E("GET", "/api/v1/billing/tariff-assignments/{pk}/", BILL_VIEW, target="tariff_assignment"),
    E(
        "DELETE",
        "/api/v1/billing/tariff-assignments/{pk}/",
        BILL_MANAGE,
        target="tariff_assignment",
    ),
    E("GET", "/api/v1/billing/session-costs/", BILL_VIEW, rows="site"),
    E("GET", "/api/v1/billing/session-costs/{pk}/", BILL_VIEW, target="session_cost"),
    E("POST", "/api/v1/billing/session-costs/{pk}/refund/", BILL_MANAGE, target="session_cost"),
    E("GET", "/api/v1/billing/payouts/", BILL_MANAGE, rows="tenant"),
    E("GET", "/api/v1/billing/payouts/{pk}/", BILL_MANAGE, target="payout"),
    E("GET", "/api/v1/billing/payouts/{pk}/bank-file/", BILL_MANAGE, target="payout"),
    E("GET", "/api/v1/billing/payouts/{pk}/statement/", BILL_MANAGE, target="payout"),
    E("POST", "/api/v1/billing/payouts/{pk}/mark-sent/", BILL_MANAGE, target="payout"),
    E("POST", "/api/v1/billing/payouts/{pk}/mark-paid/", BILL_MANAGE, target="payout"),
    E("POST", "/api/v1/billing/pricing-wizard/", BILL_MANAGE),
    E("GET", "/api/v1/billing/stations/{pk}/price-quote/", BILL_VIEW, target="station"),
    E("GET", "/api/v1/billing/sessions/{pk}/receipt/", BILL_VIEW, target="session"),
    # alerts (station offline, port faulted): seen with the stations, handled with alerts.manage
    E("GET", "/api/v1/alerts/", ST_VIEW, rows="station"),
    E("GET", "/api/v1/alerts/{pk}/", ST_VIEW, target="alert"),
    E("POST", "/api/v1/alerts/{pk}/acknowledge/", "alerts.manage", target="alert"),
    E("POST", "/api/v1/alerts/{pk}/resolve/", "alerts.manage", target="alert"),
    # the caller, and the documentation
    E("GET", "/api/v1/me/", None),
    E("GET", "/api/v1/schema/", None),
    E("GET", "/api/v1/docs/", None),
    # roaming (tenant-wide: OCPI partners are not a site's)
    E("GET", "/api/v1/roaming/partners/", ROAM_VIEW, rows="tenant"),
    E("POST", "/api/v1/roaming/partners/", ROAM_MANAGE),
    E("GET", "/api/v1/roaming/partners/{pk}/", ROAM_VIEW, target="roaming_partner"),
    E("POST", "/api/v1/roaming/partners/{pk}/rotate/", ROAM_MANAGE, target="roaming_partner"),
    E("POST", "/api/v1/roaming/partners/{pk}/unregister/", ROAM_MANAGE, target="roaming_partner"),
    E("POST", "/api/v1/roaming/partners/{pk}/pull-tokens/", ROAM_MANAGE, target="roaming_partner"),
    E("GET", "/api/v1/roaming/tokens/", ROAM_VIEW, rows="tenant"),
    E("GET", "/api/v1/roaming/tokens/{pk}/", ROAM_VIEW, target="roaming_token"),
    E("GET", "/api/v1/roaming/pushes/", ROAM_VIEW, rows="tenant"),
    E("GET", "/api/v1/roaming/pushes/{pk}/", ROAM_VIEW, target="roaming_push"),
    E("GET", "/api/v1/roaming/commands/", ROAM_VIEW, rows="tenant"),
    E("GET", "/api/v1/roaming/commands/{pk}/", ROAM_VIEW, target="roaming_command"),
    # energy (OpenADR VENs and their events per site; the BMS API on power nodes)
    E("GET", "/api/v1/energy-vens/", EN_VIEW, rows="site"),
    E("POST", "/api/v1/energy-vens/", EN_MANAGE),
    E("GET", "/api/v1/energy-vens/{pk}/", EN_VIEW, target="energy_ven"),
    E("PUT", "/api/v1/energy-vens/{pk}/", EN_MANAGE, target="energy_ven"),
    E("PATCH", "/api/v1/energy-vens/{pk}/", EN_MANAGE, target="energy_ven"),
    E("DELETE", "/api/v1/energy-vens/{pk}/", EN_MANAGE, target="energy_ven"),
    E("POST", "/api/v1/energy-vens/{pk}/poll/", EN_MANAGE, target="energy_ven"),
    E("GET", "/api/v1/energy-events/", EN_VIEW, rows="site"),
    E("GET", "/api/v1/energy-events/{pk}/", EN_VIEW, target="energy_event"),
    E("POST", "/api/v1/energy-events/{pk}/opt/", EN_MANAGE, target="energy_event"),
    E("GET", "/api/v1/bms-nodes/", EN_BMS, rows="site"),
    E("GET", "/api/v1/bms-nodes/{pk}/", EN_BMS, target="power_node"),
    E("GET", "/api/v1/bms-nodes/{pk}/live/", EN_BMS, target="power_node"),
    E("GET", "/api/v1/bms-nodes/{pk}/history/", EN_BMS, target="power_node"),
    E("POST", "/api/v1/bms-nodes/{pk}/limit/", EN_BMS, target="power_node"),
    E("POST", "/api/v1/bms-nodes/{pk}/end-limits/", EN_BMS, target="power_node"),
    E("POST", "/api/v1/bms-nodes/{pk}/building-load/", EN_BMS, target="power_node"),
    E("POST", "/api/v1/bms-nodes/{pk}/schedule/", EN_BMS, target="power_node"),  # energy
    # reports (measures from the rollups, per object in the caller's scope)
    E("GET", "/api/v1/reports/sites/", REPORTS_VIEW, rows="site"),
    E("GET", "/api/v1/reports/sites/{pk}/", REPORTS_VIEW, target="site"),
    E("GET", "/api/v1/reports/sites/{pk}/load-profile/", REPORTS_VIEW, target="site"),
    E("GET", "/api/v1/reports/sites/{pk}/capacity/", REPORTS_VIEW, target="site"),  # reports
    E("GET", "/api/v1/reports/stations/", REPORTS_VIEW, rows="station"),
    E("GET", "/api/v1/reports/stations/{pk}/", REPORTS_VIEW, target="station"),
    E("GET", "/api/v1/reports/ports/", REPORTS_VIEW, rows="evse"),
    E("GET", "/api/v1/reports/ports/{pk}/", REPORTS_VIEW, target="evse"),
    E("GET", "/api/v1/reports/sites/{pk}/breakdowns/", REPORTS_VIEW, target="site"),  # reports2
    E("GET", "/api/v1/reports/sites/{pk}/summary/", REPORTS_VIEW, target="site"),  # reports2
    # waitlist
    E("GET", "/api/v1/waitlist/groups/", WL_VIEW, rows="site"),
    E("POST", "/api/v1/waitlist/groups/", WL_MANAGE),
    E("GET", "/api/v1/waitlist/groups/{pk}/", WL_VIEW, target="waitlist_group"),
    E("PUT", "/api/v1/waitlist/groups/{pk}/", WL_MANAGE, target="waitlist_group"),
    E("PATCH", "/api/v1/waitlist/groups/{pk}/", WL_MANAGE, target="waitlist_group"),
    E("DELETE", "/api/v1/waitlist/groups/{pk}/", WL_MANAGE, target="waitlist_group"),
    E("GET", "/api/v1/waitlist/entries/", WL_VIEW, rows="site"),
    E("POST", "/api/v1/waitlist/entries/", WL_MANAGE),
    E("GET", "/api/v1/waitlist/entries/{pk}/", WL_VIEW, target="waitlist_entry"),
    E("POST", "/api/v1/waitlist/entries/{pk}/leave/", WL_MANAGE, target="waitlist_entry"),
    # plans (cloud plans: tenant-wide, public-schema rows kept to the caller's tenant)
    E("GET", "/api/v1/plans/orders/", PLANS_VIEW, rows="tenant"),
    E("GET", "/api/v1/plans/ports/", PLANS_VIEW, rows="tenant"),
    E("POST", "/api/v1/plans/ports/", PLANS_MANAGE),
    E("POST", "/api/v1/plans/ports/release/", PLANS_MANAGE),
    # firmware (catalogue and campaigns: tenant-wide)
    E("GET", "/api/v1/firmware/images/", FW_VIEW, rows="tenant"),
    E("POST", "/api/v1/firmware/images/", FW_MANAGE),
    E("GET", "/api/v1/firmware/campaigns/", FW_VIEW, rows="tenant"),
    E("POST", "/api/v1/firmware/campaigns/", FW_MANAGE),
    E("POST", "/api/v1/firmware/campaigns/transition/", FW_MANAGE),
    # media (library, playlists, schedules: tenant-wide; deliveries: their station's site)
    E("GET", "/api/v1/media/screens/", MEDIA_VIEW, rows="tenant"),
    E("POST", "/api/v1/media/screens/", MEDIA_MANAGE),
    E("GET", "/api/v1/media/assets/", MEDIA_VIEW, rows="tenant"),
    E("POST", "/api/v1/media/assets/", MEDIA_MANAGE),
    E("GET", "/api/v1/media/playlists/", MEDIA_VIEW, rows="tenant"),
    E("POST", "/api/v1/media/playlists/", MEDIA_MANAGE),
    E("GET", "/api/v1/media/schedules/", MEDIA_VIEW, rows="tenant"),
    E("POST", "/api/v1/media/schedules/", MEDIA_MANAGE),
    E("PUT", "/api/v1/media/schedules/{pk}/", MEDIA_MANAGE, target="media_schedule"),
    E("PATCH", "/api/v1/media/schedules/{pk}/", MEDIA_MANAGE, target="media_schedule"),
    E("POST", "/api/v1/media/schedules/publish/", MEDIA_MANAGE),
    E("GET", "/api/v1/media/deliveries/", MEDIA_VIEW, rows="station"),
    # support (cases belong to their station's site; canned answers and settings tenant-wide)
    E("GET", "/api/v1/support/cases/", SUP_VIEW, rows="site"),
    E("POST", "/api/v1/support/cases/", SUP_OPEN),
    E("GET", CASE, SUP_VIEW, target="support_case"),
    E("PATCH", CASE, SUP_ANSWER, target="support_case"),
    E("GET", CASE + "messages/", SUP_VIEW, target="support_case"),
    E("POST", CASE + "reply/", SUP_ANSWER, target="support_case"),
    E("POST", CASE + "followup/", SUP_OPEN, target="support_case"),
    E("POST", CASE + "station-command/", ST_CMD, target="support_case", command=True),
    E("GET", "/api/v1/support/canned-answers/", SUP_ANSWER, rows="tenant"),
    E("POST", "/api/v1/support/canned-answers/", SUP_MANAGE),
    E("GET", "/api/v1/support/canned-answers/{pk}/", SUP_ANSWER, target="support_canned"),
    E("PUT", "/api/v1/support/canned-answers/{pk}/", SUP_MANAGE, target="support_canned"),
    E("PATCH", "/api/v1/support/canned-answers/{pk}/", SUP_MANAGE, target="support_canned"),
    E("DELETE", "/api/v1/support/canned-answers/{pk}/", SUP_MANAGE, target="support_canned"),
    E("GET", "/api/v1/support/settings/", SUP_MANAGE, rows="tenant"),
    E("POST", "/api/v1/support/settings/", SUP_MANAGE),
    E("GET", "/api/v1/support/settings/{pk}/", SUP_MANAGE, target="support_settings"),
    E("PATCH", "/api/v1/support/settings/{pk}/", SUP_MANAGE, target="support_settings"),
    # issue 13 parity: payout preview and run now; granting, inviting and revoking people
    E("POST", "/api/v1/billing/payouts/preview/", BILL_MANAGE),
    E("POST", "/api/v1/billing/payouts/run/", BILL_MANAGE),
    E("POST", "/api/v1/role-assignments/", "people.manage"),
    E("POST", "/api/v1/role-assignments/invite/", "people.manage"),
    E("DELETE", "/api/v1/role-assignments/{pk}/", "people.manage", target="role_assignment"),
    # issue 13 parity: archiving sites, retiring stations, ports and connectors
    E("POST", "/api/v1/sites/{pk}/archive/", SITE_MANAGE, target="site"),
    E("POST", "/api/v1/sites/{pk}/restore/", SITE_MANAGE, target="site"),
    E("POST", STATION + "retire/", ST_CONF, target="station"),
    E("POST", "/api/v1/evses/", ST_CONF),
    E("PATCH", "/api/v1/evses/{pk}/", ST_CONF, target="evse"),
    E("PATCH", "/api/v1/connectors/{pk}/", ST_CONF, target="connector"),
    # issue 13 parity: taxes per site, the tenant's billing settings
    E("GET", "/api/v1/billing/tax-rates/", BILL_VIEW, rows="site"),
    E("POST", "/api/v1/billing/tax-rates/", BILL_MANAGE),
    E("GET", "/api/v1/billing/tax-rates/{pk}/", BILL_VIEW, target="tax_rate"),
    E("PUT", "/api/v1/billing/tax-rates/{pk}/", BILL_MANAGE, target="tax_rate"),
    E("PATCH", "/api/v1/billing/tax-rates/{pk}/", BILL_MANAGE, target="tax_rate"),
    E("DELETE", "/api/v1/billing/tax-rates/{pk}/", BILL_MANAGE, target="tax_rate"),
    E("GET", "/api/v1/billing/profiles/", BILL_MANAGE, rows="tenant"),
    E("GET", "/api/v1/billing/profiles/{pk}/", BILL_MANAGE, target="billing_profile"),
    E("PATCH", "/api/v1/billing/profiles/{pk}/", BILL_MANAGE, target="billing_profile"),
    # drivers (finder listings per site; drivers' tips per station, for moderation)
    E("GET", "/api/v1/drivers/listings/", DR_VIEW, rows="site"),
    E("POST", "/api/v1/drivers/listings/", DR_MANAGE),
    E("GET", "/api/v1/drivers/listings/{pk}/", DR_VIEW, target="finder_listing"),
    E("PUT", "/api/v1/drivers/listings/{pk}/", DR_MANAGE, target="finder_listing"),
    E("PATCH", "/api/v1/drivers/listings/{pk}/", DR_MANAGE, target="finder_listing"),
    E("DELETE", "/api/v1/drivers/listings/{pk}/", DR_MANAGE, target="finder_listing"),
    E("GET", "/api/v1/drivers/tips/", DR_VIEW, rows="station"),
    E("GET", "/api/v1/drivers/tips/{pk}/", DR_VIEW, target="tip"),
    E("POST", "/api/v1/drivers/tips/{pk}/moderate/", DR_MANAGE, target="tip"),
    # access (groups tenant-wide; rules and holidays per site; the explainer per station)
    E("GET", "/api/v1/access/groups/", AC_VIEW, rows="tenant"),
    E("POST", "/api/v1/access/groups/", AC_MANAGE),
    E("GET", "/api/v1/access/groups/{pk}/", AC_VIEW, target="access_group"),
    E("PUT", "/api/v1/access/groups/{pk}/", AC_MANAGE, target="access_group"),
    E("PATCH", "/api/v1/access/groups/{pk}/", AC_MANAGE, target="access_group"),
    E("DELETE", "/api/v1/access/groups/{pk}/", AC_MANAGE, target="access_group"),
    E("GET", "/api/v1/access/groups/{pk}/members/", AC_VIEW, target="access_group"),
    E("POST", "/api/v1/access/groups/{pk}/members/", AC_MANAGE, target="access_group"),
    E("POST", "/api/v1/access/groups/import/", AC_MANAGE),
    E("GET", "/api/v1/access/rules/", AC_VIEW, rows="site"),
    E("POST", "/api/v1/access/rules/", AC_MANAGE),
    E("GET", "/api/v1/access/rules/{pk}/", AC_VIEW, target="access_rule"),
    E("PUT", "/api/v1/access/rules/{pk}/", AC_MANAGE, target="access_rule"),
    E("PATCH", "/api/v1/access/rules/{pk}/", AC_MANAGE, target="access_rule"),
    E("DELETE", "/api/v1/access/rules/{pk}/", AC_MANAGE, target="access_rule"),
    E("GET", "/api/v1/access/holidays/", AC_VIEW, rows="site"),
    E("POST", "/api/v1/access/holidays/", AC_MANAGE),
    E("GET", "/api/v1/access/holidays/{pk}/", AC_VIEW, target="access_holiday"),
    E("PUT", "/api/v1/access/holidays/{pk}/", AC_MANAGE, target="access_holiday"),
    E("PATCH", "/api/v1/access/holidays/{pk}/", AC_MANAGE, target="access_holiday"),
    E("DELETE", "/api/v1/access/holidays/{pk}/", AC_MANAGE, target="access_holiday"),
    E("GET", "/api/v1/access/stations/{pk}/explain/", AC_VIEW, target="station"),
    E("GET", "/api/v1/access/stations/{pk}/local-list/", AC_VIEW, target="station"),
    E(
        "POST",
        "/api/v1/access/stations/{pk}/local-list/",
        AC_MANAGE,
        target="station",
        command=True,
    ),
    # pnc (issue 14, Plug & Charge)
    E("GET", "/api/v1/pnc/authority/", "pnc.view", rows="tenant"),
    E("GET", "/api/v1/pnc/authority/{pk}/", "pnc.view", target="pnc_authority"),
    E("GET", "/api/v1/pnc/station-certificates/", "pnc.view", rows="station"),
    E(
        "GET",
        "/api/v1/pnc/station-certificates/{pk}/",
        "pnc.view",
        target="pnc_station_certificate",
    ),
    E("GET", "/api/v1/pnc/trusted-roots/", "pnc.view", rows="tenant"),
    E("POST", "/api/v1/pnc/trusted-roots/", "pnc.manage"),
    E("GET", "/api/v1/pnc/trusted-roots/{pk}/", "pnc.view", target="pnc_trusted_root"),
    E("DELETE", "/api/v1/pnc/trusted-roots/{pk}/", "pnc.manage", target="pnc_trusted_root"),
    # fleet (issue 14): a fleet belongs to its home depot site; its rows follow it
    E("GET", "/api/v1/fleet/fleets/", FL_VIEW, rows="site"),
    E("POST", "/api/v1/fleet/fleets/", FL_MANAGE),
    E("GET", "/api/v1/fleet/fleets/{pk}/", FL_VIEW, target="fleet"),
    E("PUT", "/api/v1/fleet/fleets/{pk}/", FL_MANAGE, target="fleet"),
    E("PATCH", "/api/v1/fleet/fleets/{pk}/", FL_MANAGE, target="fleet"),
    E("DELETE", "/api/v1/fleet/fleets/{pk}/", FL_MANAGE, target="fleet"),
    E("POST", "/api/v1/fleet/fleets/{pk}/secret/", FL_MANAGE, target="fleet"),
    E("GET", "/api/v1/fleet/fleets/{pk}/transactions/", FL_VIEW, target="fleet"),
    E("GET", "/api/v1/fleet/fleets/{pk}/vehicles-export/", FL_VIEW, target="fleet"),
    E("GET", "/api/v1/fleet/fleets/{pk}/cards-export/", FL_VIEW, target="fleet"),
    E("GET", "/api/v1/fleet/vehicles/", FL_VIEW, rows="site"),
    E("POST", "/api/v1/fleet/vehicles/", FL_MANAGE),
    E("GET", "/api/v1/fleet/vehicles/{pk}/", FL_VIEW, target="vehicle"),
    E("PUT", "/api/v1/fleet/vehicles/{pk}/", FL_MANAGE, target="vehicle"),
    E("PATCH", "/api/v1/fleet/vehicles/{pk}/", FL_MANAGE, target="vehicle"),
    E("DELETE", "/api/v1/fleet/vehicles/{pk}/", FL_MANAGE, target="vehicle"),
    E("GET", "/api/v1/fleet/vehicles/{pk}/telemetry/", FL_VIEW, target="vehicle"),
    E("POST", "/api/v1/fleet/vehicles/{pk}/telemetry/", FL_MANAGE, target="vehicle"),
    E("GET", "/api/v1/fleet/vehicles/{pk}/usage/", FL_VIEW, target="vehicle"),
    E("GET", "/api/v1/fleet/vehicles/{pk}/transactions/", FL_VIEW, target="vehicle"),
    E("POST", "/api/v1/fleet/vehicles/import/", FL_MANAGE),
    E("GET", "/api/v1/fleet/cards/", FL_VIEW, rows="site"),
    E("POST", "/api/v1/fleet/cards/", FL_MANAGE),
    E("GET", "/api/v1/fleet/cards/{pk}/", FL_VIEW, target="fleet_card"),
    E("PUT", "/api/v1/fleet/cards/{pk}/", FL_MANAGE, target="fleet_card"),
    E("PATCH", "/api/v1/fleet/cards/{pk}/", FL_MANAGE, target="fleet_card"),
    E("DELETE", "/api/v1/fleet/cards/{pk}/", FL_MANAGE, target="fleet_card"),
    E("POST", "/api/v1/fleet/cards/import/", FL_MANAGE),
    E("GET", "/api/v1/fleet/usage/", FL_VIEW, rows="site"),
    E("GET", "/api/v1/fleet/usage/{pk}/", FL_VIEW, target="fleet_usage"),
    E("GET", "/api/v1/fleet/telemetry/", FL_VIEW, rows="site"),
    E("GET", "/api/v1/fleet/telemetry/{pk}/", FL_VIEW, target="fleet_telemetry"),
    E("GET", "/api/v1/pnc/installed-certificates/", "pnc.view", rows="station"),
    E(
        "GET",
        "/api/v1/pnc/installed-certificates/{pk}/",
        "pnc.view",
        target="pnc_installed_certificate",
    ),
    E(
        "DELETE",
        "/api/v1/pnc/installed-certificates/{pk}/",
        "pnc.manage",
        target="pnc_installed_certificate",
        command=True,
    ),
    E(
        "POST",
        "/api/v1/pnc/stations/{pk}/certificates/",
        "pnc.manage",
        target="station",
        command=True,
    ),
    E(
        "POST",
        "/api/v1/pnc/stations/{pk}/certificates/refresh/",
        "pnc.manage",
        target="station",
        command=True,
    ),
    E("GET", "/api/v1/pnc/settings/", "pnc.view", rows="tenant"),
    E("POST", "/api/v1/pnc/settings/", "pnc.manage"),
    E("GET", "/api/v1/pnc/settings/{pk}/", "pnc.view", target="pnc_settings"),
    E("PATCH", "/api/v1/pnc/settings/{pk}/", "pnc.manage", target="pnc_settings"),
    # bulk commands (portal, issue 13): a job is seen through its stations' sites
    E("GET", "/api/v1/bulk-commands/", ST_VIEW, rows="sites"),
    E("POST", "/api/v1/bulk-commands/", ST_CMD),
    E("GET", "/api/v1/bulk-commands/{pk}/", ST_VIEW, target="bulk_command"),
    E("GET", "/api/v1/bulk-commands/{pk}/items/", ST_VIEW, target="bulk_command"),
]
ROAMING_TARGETS = {"roaming_partner", "roaming_token", "roaming_push", "roaming_command"}

TENANT_WIDE = {
    "pnc_authority",  # pnc
    "pnc_trusted_root",  # pnc
    "pnc_settings",  # pnc
    "token",
    "webhook",
    "delivery",
    "api_key",
    "role",
    "role_assignment",
    "tariff",
    "payout",
    "billing_profile",  # issue 13 parity
    *ROAMING_TARGETS,
    "media_schedule",  # media
    "support_canned",  # support
    "support_settings",
    "access_group",  # access
}


# --- The table is complete --------------------------------------------------------------------
def _route(prefix: str, pattern) -> str:
    text = prefix + str(pattern)
    text = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", text)
    return "/" + text.replace("^", "").replace("$", "").replace("\\", "")


def api_routes() -> set[tuple[str, str]]:
    """Every (method, path) that the URL resolver serves under /api/v1/."""
    found: set[tuple[str, str]] = set()

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
                continue
            path = _route(prefix, pattern.pattern)
            if not path.startswith(PREFIX) or pattern.name == "not_found":
                continue
            callback = pattern.callback
            if hasattr(callback, "actions"):  # a viewset route
                methods = callback.actions.keys()
            elif hasattr(callback, "view_class"):
                view = callback.view_class
                methods = [m for m in ("get", "post", "put", "patch", "delete") if hasattr(view, m)]
            else:
                methods = ["get"]
            allowed = getattr(getattr(callback, "cls", None), "http_method_names", None)
            found.update(
                (method.upper(), path)
                for method in methods
                if method not in ("head", "options") and (allowed is None or method in allowed)
            )

    walk(get_resolver("config.urls").url_patterns, "")
    return found


def schema_operations() -> dict[tuple[str, str], dict]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = {}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            operations[(method.upper(), re.sub(r"\{id\}", "{pk}", path))] = operation
    return operations


def test_every_api_route_is_in_the_table():
    table = {(e.method, e.path) for e in TABLE}
    routes = api_routes()
    assert len(table) == len(TABLE), "an endpoint is listed twice"
    assert routes - table == set(), "add these endpoints to TABLE (with their permission)"
    assert table - routes == set(), "TABLE lists endpoints that no longer exist"


def test_the_schema_documents_the_permissions_of_the_table():
    operations = schema_operations()
    documented = {e for e in TABLE if e.path not in ("/api/v1/schema/", "/api/v1/docs/")}
    assert set(operations) == {(e.method, e.path) for e in documented}
    for endpoint in documented:
        operation = operations[(endpoint.method, endpoint.path)]
        assert operation["x-permission"] == (endpoint.permission or "authenticated"), endpoint
        assert (endpoint.permission or "any signed-in caller") in operation["description"]


def test_the_table_names_only_registered_permissions():
    for endpoint in TABLE:
        assert endpoint.permission is None or endpoint.permission in PERMISSIONS, endpoint


# --- What each persona gets -------------------------------------------------------------------
def _url(endpoint: Endpoint, obj) -> str:
    return endpoint.path.replace("{pk}", str(obj.pk)) if obj is not None else endpoint.path


def _object(inventory, endpoint: Endpoint, place: str):
    if endpoint.target is None:
        return None
    if endpoint.target in TENANT_WIDE:
        return inventory.tenant_wide[endpoint.target]
    return getattr(inventory, place).objects[endpoint.target]


def _send(client, endpoint: Endpoint, url: str):
    return (
        getattr(client, endpoint.method.lower())(url, {}, format="json")
        if (endpoint.method != "GET")
        else client.get(url)
    )


def _sites_of_rows(endpoint: Endpoint, rows: list[dict], inventory) -> set:
    station_site = inventory.site_of_station()
    evse_site = {place.objects["evse"].pk: place.site.pk for place in (inventory.a1, inventory.a2)}
    for place in (inventory.a1, inventory.a2):
        for station in place.stations:
            for evse in station.evses.all():
                evse_site[evse.pk] = place.site.pk
    if endpoint.rows == "id":
        return {row["id"] for row in rows}
    if endpoint.rows == "site":
        return {row["site"] for row in rows}
    if endpoint.rows == "station":
        return {station_site[row["station"]] for row in rows}
    if endpoint.rows == "evse":
        return {evse_site[row["evse"]] for row in rows}
    if endpoint.rows == "node":
        node_site = {
            place.objects["power_node"].pk: place.site.pk for place in (inventory.a1, inventory.a2)
        }
        return {node_site[row["node"]] for row in rows}
    if endpoint.rows == "sites":  # a row spanning sites lists those the caller may see
        return {site for row in rows for site in row["sites"]}
    raise AssertionError(f"no site mapping for {endpoint}")


def _expect(response, *statuses, endpoint=None):
    assert response.status_code in statuses, (
        f"{endpoint}: {response.status_code} {response.content[:300]!r}"
    )


@pytest.mark.parametrize("endpoint", TABLE, ids=str)
def test_isolation(endpoint, inventory, beta_inventory, personas, alpha, beta, alpha_sites):
    a1, a2 = alpha_sites
    own = _object(inventory, endpoint, "a2")
    url = _url(endpoint, own)

    # Nobody signed in.
    _expect(_send(api_client(alpha), endpoint, url), 401, endpoint=endpoint)

    # Another tenant's person and key: their session and key mean nothing on alpha's host.
    other = personas.other_tenant_user
    _expect(_send(api_client(alpha, user=other), endpoint, url), 401, 403, endpoint=endpoint)
    connection.set_tenant(beta)
    _, beta_key = api_key_create(name="beta", created_by=other, permissions=["*"], all_sites=True)
    connection.set_tenant(alpha)
    _expect(_send(api_client(alpha, key=beta_key), endpoint, url), 401, endpoint=endpoint)

    if endpoint.permission is None:
        for user in (personas.owner, personas.outsider):
            _expect(api_client(alpha, user=user).get(url), 200, endpoint=endpoint)
        return

    # A person without the role, and a key without the permission.
    _expect(_send(api_client(alpha, user=personas.outsider), endpoint, url), 403, endpoint=endpoint)
    unrelated = "reports.view" if endpoint.permission != "reports.view" else "sites.view"
    _, weak_key = api_key_create(
        name="weak", created_by=personas.owner, permissions=[unrelated], all_sites=True
    )
    _expect(_send(api_client(alpha, key=weak_key), endpoint, url), 403, endpoint=endpoint)

    # The delegate (site A1), and a key of the owner limited to site A1.
    _, a1_key = api_key_create(
        name="a1 only", created_by=personas.owner, permissions=["*"], sites=[a1]
    )
    limited = [
        (api_client(alpha, user=personas.delegate), UserActor(personas.delegate)),
        (api_client(alpha, key=a1_key), None),
    ]
    for client, actor in limited:
        holds = actor is None or not actor.scope_for(endpoint.permission).empty
        if not holds or endpoint.rows == "tenant" or endpoint.target in TENANT_WIDE:
            # no permission at all, or tenant-wide rows that need it on every site
            _expect(_send(client, endpoint, url), 403, endpoint=endpoint)
            continue
        if endpoint.target is not None:
            _expect(_send(client, endpoint, url), 404, endpoint=endpoint)  # A2's object
            if endpoint.method == "GET" and not endpoint.command:
                mine = _url(endpoint, _object(inventory, endpoint, "a1"))
                _expect(client.get(mine), 200, endpoint=endpoint)
        elif endpoint.method == "GET":
            response = client.get(url, {"page_size": 1000})
            _expect(response, 200, endpoint=endpoint)
            rows = results(response)
            assert rows, f"{endpoint}: the limited caller should see A1's rows"
            assert _sites_of_rows(endpoint, rows, inventory) == {a1.pk}, endpoint

    if endpoint.method != "GET" or endpoint.command:
        return

    # The owner sees everything (the positive control of the checks above).
    owner = api_client(alpha, user=personas.owner)
    response = owner.get(url, {"page_size": 1000})
    _expect(response, 200, endpoint=endpoint)
    if endpoint.target is None and endpoint.rows != "tenant":
        assert {a1.pk, a2.pk} <= _sites_of_rows(endpoint, results(response), inventory)

    # On beta's host, beta's owner gets exactly beta's rows.
    if endpoint.target is None:
        view = get_resolver("config.urls").resolve(endpoint.path).func
        model = view.cls.queryset.model
        connection.set_tenant(beta)
        expected = set(model.objects.values_list("pk", flat=True))
        beta_owner = User.objects.get(email="owner@beta.test")
        connection.set_tenant(alpha)
        response = api_client(beta, user=beta_owner).get(endpoint.path, {"page_size": 1000})
        _expect(response, 200, endpoint=endpoint)
        assert {row["id"] for row in results(response)} == expected, endpoint


# --- The drivers' API (/drivers/api/v1/): a driver's own data only ---------------------------
# Drivers are not portal people (apps.drivers, docs/drivers.md): their API is apart from
# /api/v1/ and has its own table.  "own": the route shows or changes the caller's data (a
# {pk} names the driver's own card / session); "public": no sign-in (the finder).
DRIVER_PREFIX = "/drivers/api/v1/"


@dataclass(frozen=True)
class DriverEndpoint:
    method: str
    path: str
    kind: str  # "own" | "public"
    target: str | None = None  # "card" / "session" / "tip"

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


D = DriverEndpoint
DRIVER_TABLE: list[DriverEndpoint] = [
    D("GET", "/drivers/api/v1/finder/stations/", "public"),
    D("GET", "/drivers/api/v1/me/", "own"),
    D("PATCH", "/drivers/api/v1/me/", "own"),
    D("GET", "/drivers/api/v1/cards/", "own"),
    D("POST", "/drivers/api/v1/cards/", "own"),
    D("GET", "/drivers/api/v1/cards/{pk}/", "own", target="card"),
    D("DELETE", "/drivers/api/v1/cards/{pk}/", "own", target="card"),
    D("POST", "/drivers/api/v1/cards/{pk}/verify/", "own", target="card"),
    D("GET", "/drivers/api/v1/sessions/", "own"),
    D("GET", "/drivers/api/v1/sessions/{pk}/", "own", target="session"),
    D("POST", "/drivers/api/v1/tips/", "own"),
    D("POST", "/drivers/api/v1/tips/{pk}/vote/", "own", target="tip"),
]


def driver_api_routes() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
                continue
            path = _route(prefix, pattern.pattern).replace("<int:pk>", "{pk}")
            if not path.startswith(DRIVER_PREFIX):
                continue
            view = pattern.callback.view_class
            found.update(
                (method.upper(), path)
                for method in ("get", "post", "put", "patch", "delete")
                if hasattr(view, method) and method in view.http_method_names
            )

    walk(get_resolver("config.urls").url_patterns, "")
    return found


def test_every_driver_api_route_is_in_the_driver_table():
    table = {(e.method, e.path) for e in DRIVER_TABLE}
    assert len(table) == len(DRIVER_TABLE)
    assert driver_api_routes() == table


@dataclass
class DriverWorld:
    mine: object
    theirs: object
    objects: dict  # target -> (the driver's own object, the other driver's object)


DRIVER_PASSWORD = "a long driver password"


@pytest.fixture
def driver_world(alpha, alpha_sites):
    import datetime as dt
    import uuid

    from django.core.cache import cache
    from django.utils import timezone

    from apps.charging.models import ChargingSession, IdToken
    from apps.drivers import services as drivers
    from apps.drivers.cards import card_code
    from apps.drivers.models import FinderListing, Tip
    from tests.api.conftest import make_station

    cache.clear()
    site = alpha_sites[0]
    FinderListing.objects.create(site=site)
    station = make_station(site, f"DRV-{uuid.uuid4().hex[:6]}")
    people, objects = [], {"card": [], "session": [], "tip": []}
    for name in ("mine", "theirs"):
        driver = drivers.driver_sign_up(
            email=f"{name}-{uuid.uuid4().hex[:6]}@drivers.test",
            password=DRIVER_PASSWORD,
            verify_url="http://x/TOKEN",
        )
        driver.email_verified_at = timezone.now()
        driver.save()
        token = IdToken.objects.create(uid=f"DRV{uuid.uuid4().hex[:8].upper()}")
        card = drivers.card_link(driver=driver, uid=token.uid)
        drivers.card_verify_code(
            card=card, code=card_code(schema_name=connection.schema_name, uid=token.uid)
        )
        session = ChargingSession.objects.create(
            station=station,
            evse=station.evses.first(),
            transaction_id=f"tx-{token.uid}",
            id_token=token.uid,
            started_at=timezone.now() + dt.timedelta(seconds=1),
            energy_wh=5000,
        )
        objects["card"].append(card)
        objects["session"].append(session)
        people.append(driver)
    # a tip is voted by others: each driver's "own" tip to vote on is the other's
    tips = [
        Tip.objects.create(station=station, driver=driver, body=f"tip of {driver.email}")
        for driver in reversed(people)
    ]
    objects["tip"] = tips
    return DriverWorld(
        mine=people[0],
        theirs=people[1],
        objects={k: tuple(v) for k, v in objects.items()},
    )


def _driver_client(tenant, driver=None):
    client = api_client(tenant)
    if driver is not None:
        response = client.post(
            "/drivers/sign-in/", {"email": driver.email, "password": DRIVER_PASSWORD}
        )
        assert response.status_code == 302, response.content[:200]
    return client


def _driver_send(client, endpoint: DriverEndpoint, url: str):
    if endpoint.method == "GET":
        return client.get(url)
    return getattr(client, endpoint.method.lower())(url, {}, format="json")


@pytest.mark.parametrize("endpoint", DRIVER_TABLE, ids=str)
def test_driver_isolation(endpoint, driver_world, personas, alpha, beta):
    mine, theirs = driver_world.objects.get(endpoint.target, (None, None))
    url = endpoint.path.replace("{pk}", str(mine.pk)) if mine is not None else endpoint.path

    if endpoint.kind == "public":
        _expect(api_client(alpha).get(url), 200, endpoint=endpoint)
        return

    # Nobody; a portal person (session) and an API key of the owner: not drivers.
    _expect(_driver_send(api_client(alpha), endpoint, url), 401, 403, endpoint=endpoint)
    owner = api_client(alpha, user=personas.owner)
    _expect(_driver_send(owner, endpoint, url), 401, 403, endpoint=endpoint)
    _, key = api_key_create(name="k", created_by=personas.owner, permissions=["*"], all_sites=True)
    _expect(_driver_send(api_client(alpha, key=key), endpoint, url), 401, 403, endpoint=endpoint)

    # The driver's own session cookie on another network's host means nothing there.
    signed_in = _driver_client(alpha, driver_world.mine)
    cookie = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
    elsewhere = api_client(beta)
    elsewhere.cookies[settings.SESSION_COOKIE_NAME] = cookie
    connection.set_tenant(alpha)
    _expect(_driver_send(elsewhere, endpoint, url), 401, 403, endpoint=endpoint)

    # Another driver: 404 for this driver's objects; lists hold only their own rows.
    other = _driver_client(alpha, driver_world.theirs)
    if endpoint.target is not None and endpoint.target != "tip":
        _expect(_driver_send(other, endpoint, url), 404, endpoint=endpoint)
    if endpoint.method == "GET" and endpoint.target is None:
        body = other.get(url).json()
        if endpoint.path.endswith("/cards/"):
            assert {row["id"] for row in body} == {driver_world.objects["card"][1].pk}
        elif endpoint.path.endswith("/sessions/"):
            ids = {row["id"] for row in body["results"]}
            assert ids == {driver_world.objects["session"][1].pk}
        elif endpoint.path.endswith("/me/"):
            assert body["email"] == driver_world.theirs.email

    # The driver: their own object (positive control).
    if endpoint.method == "GET":
        _expect(signed_in.get(url), 200, endpoint=endpoint)
