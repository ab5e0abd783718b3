"""The demo tenant the run command prepares, with a sign-in printed on screen: two sites, the
simulated stations registered up front (so they can be placed), a price with taxes, a power
tree whose limited panel the stations share, an open alert, and three weeks of past sessions
(with their power curves and priced receipts) and of the panel's load, so that every chart and
report has something to show on the first run.  Whatever is made up is named "Demo" (history:
token ``DEMO-HISTORY``, transactions ``demo-history-...``)."""

from __future__ import annotations

import datetime as dt
import os
import random
from decimal import Decimal

from django.apps import apps
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import User
from apps.accounts.services import user_set_password
from apps.billing.models import Tariff
from apps.billing.services import tariff_assign, tariff_create, tax_rate_set
from apps.monitoring.services.alerts import alert_raise
from apps.power.models import PowerNode
from apps.power.services import power_node_create, station_power_set
from apps.simulator.provisioning import stations_ensure
from apps.stations.models import Site, Station
from apps.stations.passwords import generate_station_password
from apps.stations.services import site_create, station_register
from apps.tenants.models import StationIdentity
from apps.tenants.selectors import tenant_by_slug
from apps.tenants.services import tenant_create

DEMO_SLUG = "demo"
DEMO_EMAIL = "admin@demo.chargegrid.local"
DEMO_PREFIX = "SIM"  # simulate_stations' default: the stations it drives are SIM-001...
DEMO_TARIFF = "Demo public price"
DEMO_PANEL = "Demo garage panel (40 A)"
DEMO_OFFLINE = "DEMO-OFFLINE-1"  # registered, never connects: an alert to look at
DEMO_HISTORY_TOKEN = "DEMO-HISTORY"  # the made-up driver of the past sessions
DEMO_HISTORY_DAYS = 21
DEMO_PRICE_SINCE_DAYS = 35  # the demo price applies to the whole history
DEMO_PRICES = {
    "currency": "CAD",
    "session_fee": "0.50",
    "energy": [
        {
            "price_per_kwh": "0.31",
            "windows": [
                {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "16:00", "end": "21:00"}
            ],
        },
        {"price_per_kwh": "0.19"},
    ],
    "idle": {"price_per_hour": "6.00", "grace_minutes": 10},
}


def demo_identities(stations: int) -> list[str]:
    return [f"{DEMO_PREFIX}-{n:03d}" for n in range(1, stations + 1)]


def demo_ensure(*, stations: int = 0) -> dict[str, str]:
    password = os.environ.get("CHARGEGRID_DEMO_PASSWORD", "chargegrid-demo")
    tenant = tenant_by_slug(DEMO_SLUG)
    if tenant is None:
        tenant = tenant_create(
            name="Demo Charging Network",
            slug=DEMO_SLUG,
            admin_email=DEMO_EMAIL,
            admin_password=password,
            timezone="America/Montreal",
            language="en",
        )
    with tenant_context(tenant):
        user_set_password(user=User.objects.get(email=DEMO_EMAIL), password=password)
        if not Site.objects.exists():
            site_create(
                name="Montréal — Old Port garage",
                address="333 Rue de la Commune O",
                city="Montréal",
                region="QC",
                postal_code="H2Y 2E2",
                country="CA",
                latitude="45.502700",
                longitude="-73.554000",
                timezone="America/Montreal",
            )
            site_create(
                name="Québec — City Hall lot",
                address="2 Rue des Jardins",
                city="Québec",
                region="QC",
                postal_code="G1R 4S9",
                country="CA",
                latitude="46.813900",
                longitude="-71.208000",
                timezone="America/Toronto",
            )
    if stations > 0:
        demo_network_ensure(tenant=tenant, stations=stations)
    return {
        "slug": tenant.slug,
        "domain": tenant.get_primary_domain().domain,
        "email": DEMO_EMAIL,
        "password": password,
    }


def demo_network_ensure(*, tenant, stations: int) -> None:
    """The simulated stations, registered with the passwords the simulator derives, then
    (once: the demo is not reset on each run) the price, the taxes, the power tree and an
    alert.  Skipped without the simulator app (the stations would never connect)."""
    if not apps.is_installed("apps.simulator"):
        return
    stations_ensure(tenant=tenant, identities=demo_identities(stations))
    with tenant_context(tenant):
        _demo_pricing()
        _demo_power_tree()
        _demo_alert()
        demo_history()


def _demo_pricing() -> None:
    if not apps.is_installed("apps.billing"):
        return
    if Tariff.objects.filter(name=DEMO_TARIFF).exists():
        return
    tariff = tariff_create(
        name=DEMO_TARIFF,
        description="Demo data: peak weekday evenings, an idle fee after 10 minutes.",
        definition=DEMO_PRICES,
        effective_from=timezone.now() - dt.timedelta(days=DEMO_PRICE_SINCE_DAYS),
    )
    for site in Site.objects.order_by("pk"):
        tariff_assign(tariff=tariff, site=site)
        tax_rate_set(site=site, code="GST", name="GST", rate=Decimal("0.05"), position=1)
        tax_rate_set(site=site, code="QST", name="QST", rate=Decimal("0.09975"), position=2)


def _demo_power_tree() -> None:
    """A 40 A panel (32 A continuous per line) feeding the first site's stations: their ports
    (32 A each) must share it, which the live tree shows."""
    if not apps.is_installed("apps.power"):
        return
    site = Site.objects.order_by("pk").first()
    if site is None or PowerNode.objects.filter(site=site).exists():
        return
    supply = power_node_create(
        site=site, name="Demo site supply (200 A)", kind="supply", rating_a=Decimal("200")
    )
    panel = power_node_create(
        site=site, name=DEMO_PANEL, kind="panel", parent=supply, rating_a=Decimal("40")
    )
    for station in Station.objects.filter(site=site, identity__startswith=f"{DEMO_PREFIX}-"):
        station_power_set(station=station, node=panel, breaker_rating_a=Decimal("40"))


def _demo_alert() -> None:
    """A station that is registered and never connects: an open "offline" alert."""
    if not apps.is_installed("apps.monitoring"):
        return
    if Station.objects.filter(identity=DEMO_OFFLINE).exists():
        return
    if StationIdentity.objects.filter(identity=DEMO_OFFLINE).exists():
        return  # taken by another tenant
    station = station_register(
        identity=DEMO_OFFLINE,
        password=generate_station_password(),
        site=Site.objects.order_by("-pk").first(),
        name="Demo: a station that never connected",
    )
    alert_raise(
        station_id=station.pk, kind="offline", message="Demo: this station has never connected."
    )


def demo_history(*, days: int = DEMO_HISTORY_DAYS, seed: int = 13) -> int:
    """Past sessions of the simulated stations (one to three a day per station, 7 to 40 kWh),
    each with its power curve every 15 minutes and a priced receipt, and the demo panel's
    15-minute load for the last two days.  Once: nothing is added when the demo driver's
    sessions exist.  Returns the number of sessions made."""
    from apps.charging.metering import POWER  # noqa: PLC0415 (the composition root)
    from apps.charging.models import ChargingSession, IdToken, MeterValue  # noqa: PLC0415

    if ChargingSession.objects.filter(id_token=DEMO_HISTORY_TOKEN).exists():
        return 0
    stations = list(
        Station.objects.filter(identity__startswith=f"{DEMO_PREFIX}-")
        .prefetch_related("evses")
        .order_by("identity")
    )
    if not stations:
        return 0
    token, _ = IdToken.objects.get_or_create(
        uid=DEMO_HISTORY_TOKEN, defaults={"label": "Demo: past drivers"}
    )
    rng = random.Random(seed)
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    sessions, curves = [], []
    for station in stations:
        evses = list(station.evses.all())
        if not evses:
            continue
        for day in range(days, 0, -1):
            for visit in range(rng.randint(1, 3)):
                start = today - dt.timedelta(days=day) + dt.timedelta(hours=rng.randint(6, 20))
                start += dt.timedelta(minutes=rng.randint(0, 59) + visit * 240)
                power_w = rng.choice((3600, 6600, 7200, 11000))
                energy_wh = rng.randint(7_000, 40_000)
                minutes = max(30, int(energy_wh / power_w * 60))
                end = start + dt.timedelta(minutes=minutes)
                if end >= timezone.now():
                    continue
                evse = evses[visit % len(evses)]
                session = ChargingSession(
                    station=station,
                    evse=evse,
                    transaction_id=f"demo-history-{station.pk}-{day}-{visit}",
                    id_token=DEMO_HISTORY_TOKEN,
                    token=token,
                    status="completed",
                    started_at=start,
                    ended_at=end,
                    meter_start_wh=0,
                    meter_last_wh=energy_wh,
                    meter_stop_wh=energy_wh,
                    energy_wh=energy_wh,
                    stop_reason="Local",
                )
                sessions.append(session)
                curves.append((session, evse, start, minutes, power_w))
    ChargingSession.objects.bulk_create(sessions)
    values = []
    for session, evse, start, minutes, power_w in curves:
        for minute in range(0, minutes, 15):
            taper = 1.0 if minute < minutes * 0.7 else 0.6
            values.append(
                MeterValue(
                    station_id=session.station_id,
                    evse_id=evse.evse_id,
                    session=session,
                    timestamp=start + dt.timedelta(minutes=minute),
                    measurand=POWER,
                    unit="W",
                    value=Decimal(int(power_w * taper * rng.uniform(0.92, 1.0))),
                )
            )
    MeterValue.objects.bulk_create(values, batch_size=2000)
    if apps.is_installed("apps.billing"):
        from apps.billing.services import session_bill  # noqa: PLC0415

        for session in sessions:
            session_bill(session_id=session.pk)
    _demo_panel_history(rng)
    return len(sessions)


def _demo_panel_history(rng: random.Random) -> None:
    """The demo panel's load over the last two days (the node page's chart)."""
    if not apps.is_installed("apps.power"):
        return
    from apps.power.models import NodeInterval  # noqa: PLC0415

    panel = PowerNode.objects.filter(name=DEMO_PANEL).first()
    if panel is None or NodeInterval.objects.filter(node=panel).exists():
        return
    now = timezone.now()
    first = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    first -= dt.timedelta(days=2)
    rows = []
    for index in range(2 * 24 * 4):
        start = first + dt.timedelta(minutes=15 * index)
        hour = timezone.localtime(start).hour
        busy = 0.8 if 7 <= hour < 10 or 16 <= hour < 21 else 0.25
        drawn = int(rng.uniform(0.5, 1.0) * busy * 22_000)
        rows.append(
            NodeInterval(
                node=panel,
                start=start,
                samples=15,
                drawn_w_sum=drawn * 15,
                drawn_w_max=min(22_000, int(drawn * 1.2)),
                allocated_w_sum=min(22_000, int(drawn * 1.1)) * 15,
                sessions_max=max(1, round(drawn / 7_000)),
                limit_w=22_000,
            )
        )
    NodeInterval.objects.bulk_create(rows)
