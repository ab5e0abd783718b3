"""Billing fixtures: a priced site in Montreal, stations, drivers and finished sessions with
their meter values, built the way the OCPP adapter records them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from apps.billing.models import Payout, SessionCost
from apps.charging.models import ChargingSession, IdToken, MeterValue
from apps.stations.services import site_create, station_register
from tests.factories import ChargingSessionFactory, IdTokenFactory

ENERGY = "Energy.Active.Import.Register"
PAYOUT_DEBTOR = {
    "name": "chargegrid Platform Inc.",
    "account_number": "1234567",
    "clearing_system": "CACPA",
    "clearing_member_id": "000112345",
    "country": "CA",
}


@pytest.fixture
def site(alpha):
    return site_create(name=f"Billing site {uuid.uuid4().hex[:6]}", timezone="America/Montreal")


@pytest.fixture
def station(site):
    return station_register(identity=f"BILL-{uuid.uuid4().hex[:10]}", password=None, site=site)


@pytest.fixture
def make_token(alpha):
    def make(uid: str | None = None) -> IdToken:
        return IdTokenFactory(uid=uid or uuid.uuid4().hex[:12].upper())

    return make


def record_session(
    station,
    *,
    start: datetime,
    end: datetime,
    energy_wh: int,
    charging_until: datetime | None = None,
    token: IdToken | None = None,
    sample_minutes: int = 15,
    meter_start_wh: int = 1_000_000,
) -> ChargingSession:
    """A completed session with energy register samples every ``sample_minutes`` (linear)."""
    charging_end = charging_until or end
    session = ChargingSessionFactory(
        station=station,
        evse=station.evses.first(),
        transaction_id=uuid.uuid4().hex,
        token=token,
        started_at=start,
        ended_at=end,
        charging_ended_at=charging_end,
        meter_start_wh=meter_start_wh,
        energy_wh=energy_wh,
    )
    charging_seconds = (charging_end - start).total_seconds()
    samples = []
    moment = start + timedelta(minutes=sample_minutes)
    while moment < end:
        done = (
            min((moment - start).total_seconds() / charging_seconds, 1) if charging_seconds else 1
        )
        samples.append(
            MeterValue(
                station=station,
                evse_id=1,
                session=session,
                timestamp=moment,
                measurand=ENERGY,
                unit="Wh",
                value=Decimal(meter_start_wh + int(energy_wh * done)),
            )
        )
        moment += timedelta(minutes=sample_minutes)
    MeterValue.objects.bulk_create(samples)
    return session


@pytest.fixture
def clock(monkeypatch):
    """``clock(moment)``: from now on ``timezone.now()`` answers ``moment`` (a refund "in
    March", a top-up "last week")."""
    from django.utils import timezone

    def set_now(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_now


@pytest.fixture
def payout_debtor(settings):
    settings.BILLING_PAYOUT_DEBTOR = PAYOUT_DEBTOR
    return PAYOUT_DEBTOR


@pytest.fixture
def platform_fee(settings):
    settings.BILLING_PLATFORM_FEE_PERCENT = "5"
    settings.BILLING_PLATFORM_FEE_FIXED = "0.10"


# --- A tenant of its own for tests that commit (real concurrency, real processes) -----------
RACE_SLUG = "billing-race"


@pytest.fixture
def race_tenant(transactional_db, settings):
    """A tenant for tests that commit.  pytest-django empties the tables of the schema the
    connection is on after such a test; leaving it on this tenant keeps the session's alpha
    and beta tenants and the public schema intact."""
    from django.core.management import call_command

    from apps.tenants.models import Tenant
    from apps.tenants.services import tenant_create

    settings.BILLING_PAYOUT_DEBTOR = PAYOUT_DEBTOR
    settings.BILLING_PLATFORM_FEE_PERCENT = "4.5"
    settings.BILLING_PLATFORM_FEE_FIXED = "0.05"
    tenant = Tenant.objects.filter(slug=RACE_SLUG).first()
    if tenant is None:
        tenant = tenant_create(
            name="Billing race",
            slug=RACE_SLUG,
            admin_email="owner@race.test",
            admin_password=None,
            timezone="America/Montreal",
        )
    connection.set_tenant(tenant)
    if Payout.objects.exists() or SessionCost.objects.exists():  # left by an interrupted run
        call_command("flush", interactive=False, verbosity=0)
    yield tenant
    # pytest-django now flushes the tables of the current schema: keep it this tenant's.
    connection.set_tenant(tenant)
