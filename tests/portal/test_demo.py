"""The living demo: the network demo_ensure prepares (price and taxes, a limited panel the
simulated stations share, an open alert), once; and drivers who arrive within the first
minute instead of after 5 to 60."""

from __future__ import annotations

import asyncio
import random
import time

from config.demo import DEMO_OFFLINE, DEMO_PANEL, DEMO_TARIFF, demo_network_ensure


def test_the_demo_network_has_prices_a_shared_panel_and_an_alert(alpha, alpha_sites):
    from apps.billing.models import TariffAssignment, TaxRate
    from apps.monitoring.models import Alert
    from apps.power.models import PowerNode, StationPower
    from apps.stations.models import Station

    a1, a2 = alpha_sites
    demo_network_ensure(tenant=alpha, stations=4)
    demo_network_ensure(tenant=alpha, stations=4)  # a second run adds nothing

    simulated = Station.objects.filter(identity__startswith="SIM-")
    assert simulated.count() == 4
    assert {a.site for a in TariffAssignment.objects.filter(tariff__name=DEMO_TARIFF)} == {a1, a2}
    assert TaxRate.objects.filter(site=a1).count() == 2
    (panel,) = PowerNode.objects.filter(name=DEMO_PANEL)
    placed = StationPower.objects.filter(node=panel)
    assert panel.site == a1 and placed.count() == simulated.filter(site=a1).count() == 2
    (alert,) = Alert.objects.filter(station__identity=DEMO_OFFLINE, cleared_at=None)
    assert alert.kind == "offline" and alert.message.startswith("Demo")


class _Station:
    """Just what ``run_evse`` reads before a driver comes: whether the station is online."""

    online = True
    identity = "FIRST-ARRIVAL"


def _first_driver_after(first_arrival, timeout: float) -> float | None:
    from apps.simulator.scenario import DemoScenario

    scenario = DemoScenario(tokens=["T"], rng=random.Random(1), first_arrival=first_arrival)
    came = asyncio.Event()

    async def driver(station, evse_id):
        came.set()

    scenario._one_driver = driver

    async def watch():
        started = time.monotonic()
        task = asyncio.create_task(scenario.run_evse(_Station(), 1))
        try:
            await asyncio.wait_for(came.wait(), timeout)
            return time.monotonic() - started
        except TimeoutError:
            return None
        finally:
            task.cancel()

    return asyncio.run(watch())


def test_the_first_driver_comes_within_the_first_arrival_window():
    assert _first_driver_after(0.01, timeout=5) is not None  # within 0.6 s
    assert _first_driver_after(None, timeout=1) is None  # the old wait: 5 to 60 minutes


def test_the_demo_has_weeks_of_history_with_curves_receipts_and_panel_load(alpha, alpha_sites):
    import datetime as dt

    from django.utils import timezone

    from apps.billing.models import SessionCost
    from apps.charging.models import ChargingSession, MeterValue
    from apps.power.models import NodeInterval
    from config.demo import DEMO_HISTORY_DAYS, DEMO_HISTORY_TOKEN, demo_history

    demo_network_ensure(tenant=alpha, stations=4)
    past = ChargingSession.objects.filter(id_token=DEMO_HISTORY_TOKEN)
    count = past.count()
    assert count >= 3 * DEMO_HISTORY_DAYS  # about one to three a day per station
    oldest = past.order_by("started_at").first().started_at
    assert timezone.now() - oldest > dt.timedelta(days=DEMO_HISTORY_DAYS - 1)
    assert not past.filter(ended_at__gte=timezone.now()).exists()
    assert all(s.transaction_id.startswith("demo-history-") for s in past)
    assert MeterValue.objects.filter(session__in=past).count() > count  # curves
    costs = SessionCost.objects.filter(session__in=past)
    assert costs.count() == count and all(c.total > 0 for c in costs)  # the price applied
    assert NodeInterval.objects.filter(node__name=DEMO_PANEL).count() == 2 * 24 * 4
    assert demo_history() == 0 and past.count() == count  # once
