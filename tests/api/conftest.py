"""API fixtures: clients per persona (session or API key) and an inventory on two sites of
tenant alpha and one site of tenant beta, each row marked with where it lives."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from apps.audit.choices import AuditSource
from apps.audit.models import AuditEntry
from apps.charging.models import IdToken
from apps.ocpp.models import MessageLog, StationEvent
from apps.roles.services import api_key_create
from apps.stations.models import Site, Station, StatusChange
from apps.webhooks.models import Webhook, WebhookDelivery
from tests.conftest import host_of
from tests.factories import ChargingSessionFactory, MeterValueFactory, StationFactory

T0 = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)


def api_client(tenant, *, user=None, key: str | None = None, csrf: bool = False) -> APIClient:
    """A client on ``tenant``'s host, signed in as ``user`` (session) or using ``key``."""
    client = APIClient(HTTP_HOST=host_of(tenant), enforce_csrf_checks=csrf)
    if user is not None:
        previous = connection.tenant
        connection.set_tenant(tenant)  # the session row lives in that tenant's schema
        client.force_login(user)
        connection.set_tenant(previous)
    if key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def api_for(alpha):
    def make(user=None, tenant=None, key=None, csrf=False):
        return api_client(tenant or alpha, user=user, key=key, csrf=csrf)

    return make


def make_station(
    site: Site | None,
    identity: str,
    *,
    evses: int = 2,
    online: bool = True,
    version: str = "1.6",
    status: str = "Available",
) -> Station:
    return StationFactory(
        site=site,
        identity=identity,
        ocpp_version=version,
        is_online=online,
        last_seen_at=T0,
        evses=evses,
        evses__status=status,
    )


def make_session(station: Station, *, uid: str, token: IdToken | None = None, active=False):
    session = ChargingSessionFactory(
        station=station,
        transaction_id=f"tx-{station.identity}",
        id_token=uid,
        token=token,
        active=active,
        started_at=T0,
        meter_last_wh=None,
    )
    MeterValueFactory(session=session)
    return session


@dataclass
class Place:
    """What was created on one site (or, for tenant-wide rows, on none)."""

    site: Site | None = None
    stations: list[Station] = field(default_factory=list)
    objects: dict[str, object] = field(default_factory=dict)


@dataclass
class Inventory:
    a1: Place
    a2: Place
    tenant_wide: dict[str, object]

    def site_of_station(self) -> dict[int, int | None]:
        return {
            station.pk: station.site_id
            for place in (self.a1, self.a2)
            for station in place.stations
        }


def fill_site(site: Site, prefix: str, owner, token: IdToken) -> Place:
    place = Place(site=site)
    place.stations = [make_station(site, f"{prefix}-ST-{n}") for n in (1, 2)]
    first = place.stations[0]
    evse = first.evses.order_by("evse_id").first()
    session = make_session(first, uid=token.uid, token=token)
    StatusChange.objects.create(station=first, evse=evse, status="Charging", occurred_at=T0)
    message = MessageLog.objects.create(
        station=first,
        direction="in",
        message_type=2,
        unique_id=f"{prefix}-msg",
        action="Heartbeat",
        payload={},
        created_at=T0,
    )
    event = StationEvent.objects.create(
        station=first, kind="firmware", action="FirmwareStatusNotification", occurred_at=T0
    )
    audit = AuditEntry.objects.create(
        actor_kind="user",
        actor_label=owner.email,
        user=owner,
        action="site.update",
        object_type="stations.site",
        object_id=str(site.pk),
        object_repr=site.name,
        source=AuditSource.PORTAL,
        site=site,
    )
    from apps.power.models import EvseAllocation, LimitOverride, PowerAlert, PowerNode

    node = PowerNode.objects.create(site=site, name=f"{prefix} main panel", rating_a=100)
    limit = LimitOverride.objects.create(node=node, limit_a=50, starts_at=T0, source="api")
    allocation = EvseAllocation.objects.create(evse=evse, node=node, since=T0)
    power_alert = PowerAlert.objects.create(
        station=first, evse=evse, kind="push_failed", message="x", created_at=T0
    )
    from apps.monitoring.models import Alert

    alert = Alert.objects.create(station=first, kind="offline", severity="critical", raised_at=T0)
    from apps.energy.models import DemandResponseEvent, Ven

    ven = Ven.objects.create(
        site=site, node=node, name=f"{prefix} VEN", vtn_url="https://vtn.test/", ven_name=prefix
    )
    dr_event = DemandResponseEvent.objects.create(
        ven=ven,
        event_id=f"{prefix}-event",
        status="far",
        signal_name="simple",
        signal_type="level",
        signal_kind="level",
        starts_at=T0,
        opt="optIn",
        opt_source="default",
        received_at=T0,
    )
    from apps.waitlist.models import WaitlistEntry, WaitlistGroup  # waitlist

    queue = WaitlistGroup.objects.create(site=site, name=f"{prefix} queue")
    queue.stations.set(place.stations)
    waiting = WaitlistEntry.objects.create(
        group=queue, token_uid=token.uid, joined_via="api", joined_at=T0, queued_at=T0
    )
    from apps.media.models import MediaDelivery, MediaSchedule, Playlist  # media

    playlist = Playlist.objects.create(name=f"{prefix} playlist")
    screen_schedule = MediaSchedule.objects.create(
        playlist=playlist,
        starts_on=T0.date(),
        ends_on=T0.date(),
        daily_start=dt.time(8),
        daily_end=dt.time(20),
    )
    screen_schedule.sites.set([site])
    MediaDelivery.objects.create(schedule=screen_schedule, station=first, status="confirmed")
    from apps.support import services as support  # support (issue 20)

    case = support.case_open(
        requester_kind="driver",
        requester_email=f"driver-{prefix.lower()}@example.com",
        subject=f"{prefix} charge failed",
        category="charge_failed",
        description="It stopped after a minute.",
        source="public",
        session=session,
    )
    from apps.billing.services import tax_rate_set  # issue 13 parity: taxes per site

    tax = tax_rate_set(site=site, code="GST", name=f"{prefix} GST", rate=Decimal("0.05"))
    from apps.access.models import AccessRule, Holiday  # access

    access_rule = AccessRule.objects.create(
        name=f"{prefix} public", kind="public", site=site, scope_site=site
    )
    access_holiday, _ = Holiday.objects.get_or_create(  # fill_site may run twice per site
        date=T0.date(), site=site, defaults={"name": f"{prefix} holiday"}
    )
    from apps.pnc.models import StationCertificate  # pnc (issue 14)

    station_certificate = StationCertificate.objects.create(
        station=first,
        certificate_type="ChargingStationCertificate",
        serial_number=f"{prefix.lower()}01",
        subject=f"CN={first.identity}",
        certificate_pem="-",
        not_before=T0,
        not_after=T0 + dt.timedelta(days=365),
    )
    from apps.pnc.models import InstalledCertificate  # pnc

    installed_certificate = InstalledCertificate.objects.create(
        station=first,
        certificate_type="CSMSRootCertificate",
        hash_algorithm="SHA256",
        issuer_name_hash="aa",
        issuer_key_hash="bb",
        serial_number=f"{prefix.lower()}02",
        reported_at=T0,
    )
    place.objects = {
        "pnc_station_certificate": station_certificate,
        "pnc_installed_certificate": installed_certificate,
        "support_case": case,
        "tax_rate": tax,
        "access_rule": access_rule,
        "access_holiday": access_holiday,
        "energy_ven": ven,
        "energy_event": dr_event,
        "waitlist_group": queue,
        "waitlist_entry": waiting,
        "power_node": node,
        "power_limit": limit,
        "power_allocation": allocation,
        "power_alert": power_alert,
        "alert": alert,
        "site": site,
        "station": first,
        "evse": evse,
        "connector": evse.connectors.first(),
        "session": session,
        "meter_value": session.meter_values.first(),
        "status_change": first.status_changes.first(),
        "message": message,
        "station_event": event,
        "audit_entry": audit,
    }
    from apps.drivers.models import FinderListing, Tip  # drivers

    place.objects["finder_listing"], _ = FinderListing.objects.get_or_create(site=site)
    place.objects["tip"] = Tip.objects.create(station=first, body=f"{prefix} tip")
    from apps.fleet import services as fleet  # fleet (issue 14)
    from apps.fleet.models import Fleet, VehicleSession

    the_fleet = Fleet.objects.filter(name=f"{prefix} fleet").first()
    if the_fleet is None:  # fill_site may run twice per site
        the_fleet = fleet.fleet_create(name=f"{prefix} fleet", site=site)
        vehicle = fleet.vehicle_create(
            fleet=the_fleet,
            make="Ford",
            model="E-Transit",
            battery_kwh=Decimal("68"),
            # hexadecimal: never I, O or Q, whatever the prefix (a VIN has none)
            vin="WF" + hashlib.md5(prefix.encode()).hexdigest()[:15].upper(),
        )
        fleet.card_create(fleet=the_fleet, uid=f"{prefix}-FLEET-CARD", vehicle=vehicle)
        VehicleSession.objects.get_or_create(
            session=session,
            defaults={"fleet": the_fleet, "vehicle": vehicle, "started_at": session.started_at},
        )
        fleet.telemetry_record(vehicle=vehicle, recorded_at=T0, soc_percent=Decimal("50"))
    place.objects["fleet"] = the_fleet
    place.objects["vehicle"] = the_fleet.vehicles.get()
    place.objects["fleet_card"] = the_fleet.cards.get()
    place.objects["fleet_usage"] = the_fleet.sessions.get()
    place.objects["fleet_telemetry"] = place.objects["vehicle"].telemetry.get()
    from apps.monitoring.models import BulkCommand, BulkCommandItem  # portal (issue 13)

    bulk = BulkCommand.objects.create(command="reset", arguments={"kind": "soft"}, created_by=owner)
    BulkCommandItem.objects.create(job=bulk, station=first, status="ok", answer="Accepted")
    place.objects["bulk_command"] = bulk
    return place


@pytest.fixture
def inventory(personas, alpha_sites) -> Inventory:
    owner = personas.owner
    token = IdToken.objects.create(uid="ALPHA-TOKEN-1", label="alpha driver")
    a1 = fill_site(alpha_sites[0], "A1", owner, token)
    a2 = fill_site(alpha_sites[1], "A2", owner, token)
    from apps.roles.models import Role, RoleAssignment

    webhook = Webhook.objects.create(
        name="alpha hook",
        url="https://example.com/hook",
        secret="s",
        events=["ping"],
        created_by=owner,
    )
    delivery = WebhookDelivery.objects.create(
        uuid="00000000-0000-0000-0000-00000000a001",
        webhook=webhook,
        event="ping",
        payload={"marker": "alpha"},
    )
    key, _ = api_key_create(
        name="alpha key", created_by=owner, permissions=["sites.view"], all_sites=True
    )
    from apps.billing import services as billing
    from apps.billing.services.payouts import payout_run

    tariff = billing.tariff_create(
        name="Public",
        definition={"currency": "CAD", "energy": [{"price_per_kwh": "0.25"}]},
        effective_from=T0 - dt.timedelta(days=30),
    )
    for place in (a1, a2):
        place.objects["tariff_assignment"] = billing.tariff_assign(tariff=tariff, site=place.site)
        place.objects["session_cost"] = billing.session_bill(session_id=place.objects["session"].pk)
    # A payout with its bank file: the platform's debtor account and the tenant's own.
    from tests.billing.conftest import PAYOUT_DEBTOR

    billing.billing_profile_update(
        payout_account_holder="Alpha Parking Inc.",
        payout_account_number="7654321",
        payout_clearing_system="CACPA",
        payout_clearing_member_id="081500001",
    )
    from django.test import override_settings

    with override_settings(BILLING_PAYOUT_DEBTOR=PAYOUT_DEBTOR):
        payout = payout_run(period_start=T0.date())
    from apps.billing.models import BillingProfile

    tenant_wide = {
        "billing_profile": BillingProfile.objects.get(),  # issue 13 parity
        "tariff": tariff,
        "payout": payout,
        "token": token,
        "webhook": webhook,
        "delivery": delivery,
        "api_key": key,
        "role": Role.objects.get(slug="viewer"),
        "role_assignment": RoleAssignment.objects.filter(user=personas.delegate).first(),
        "audit_entry": AuditEntry.objects.create(
            actor_kind="user",
            actor_label=owner.email,
            action="token.create",
            source=AuditSource.API,
        ),
    }
    from apps.support import services as support  # support (issue 20)

    tenant_wide["support_canned"] = support.canned_answer_create(title="Reset", body="Done.")
    tenant_wide["support_settings"] = support.settings_update(team_email="team@alpha.test")
    from tests.roaming.factories import roaming_inventory

    tenant_wide.update(roaming_inventory())
    from apps.media.models import MediaSchedule  # media

    tenant_wide["media_schedule"] = MediaSchedule.objects.order_by("pk").first()
    from apps.access.models import AccessGroup  # access

    tenant_wide["access_group"] = AccessGroup.objects.create(name="alpha staff")
    tenant_wide["access_group"].tokens.add(token)
    from apps.pnc import services as pnc  # pnc (issue 14)
    from tests.pnc.testpki import LocalPki, pem

    tenant_wide["pnc_authority"] = pnc.ca_get_or_create()
    tenant_wide["pnc_trusted_root"] = pnc.trusted_root_add(
        name="alpha root", certificate_pem=pem(LocalPki().root)
    )
    tenant_wide["pnc_settings"] = pnc.pnc_settings_update(ocsp_timeout_seconds=2.0)
    return Inventory(a1=a1, a2=a2, tenant_wide=tenant_wide)


@pytest.fixture
def beta_inventory(beta, alpha):
    """One site and one station in tenant beta (then back to alpha)."""
    connection.set_tenant(beta)
    site = Site.objects.create(name="B1 Harbour", timezone="UTC")
    token = IdToken.objects.create(uid="BETA-TOKEN-1")
    from apps.accounts.models import User

    place = fill_site(site, "B1", User.objects.get(email="owner@beta.test"), token)
    connection.set_tenant(alpha)
    return place


def results(response) -> list[dict]:
    body = response.json()
    return body["results"] if isinstance(body, dict) and "results" in body else body


@pytest.fixture
def now():
    return timezone.now()
