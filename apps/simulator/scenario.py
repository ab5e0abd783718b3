"""Many stations at once, with drivers who come, charge and leave (demos and load tests)."""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field

from .physics import Vehicle
from .state import SessionRefused
from .station import COMMUNICATION_ERRORS, SimulatedStation

logger = logging.getLogger("chargegrid.simulator")

BATTERIES_KWH = (40, 58, 64, 77, 82, 100)
UNKNOWN_CARD_SHARE = 0.05  # some drivers present a card the network does not know


@dataclass
class DemoScenario:
    """Drivers arrive at random, charge for a while and leave.  Half of them end the session
    with their card and linger (idle, cable in) before driving off; a car that fills up before
    its driver returns sits idle too.

    ``speed`` compresses the day: waits are divided by it and batteries are that much smaller,
    so a session's state of charge moves as in a full-length day while power, current and
    timestamps stay real (the CSMS sees coherent data).
    """

    tokens: list[str]
    speed: float = 1.0
    rng: random.Random = field(default_factory=random.Random)
    # minutes before each port's first driver (None: like every later one, 5 to 60)
    first_arrival: float | None = None

    def vehicle(self) -> Vehicle:
        return Vehicle(
            battery_kwh=self.rng.choice(BATTERIES_KWH) / self.speed,
            soc=self.rng.uniform(10, 60),
            max_current_a=self.rng.choice((16.0, 32.0)),
            phases=self.rng.choice((1, 3, 3)),
        )

    def token(self) -> str:
        if not self.tokens or self.rng.random() < UNKNOWN_CARD_SHARE:
            return f"UNKNOWN{self.rng.randrange(10**6):06d}"
        return self.rng.choice(self.tokens)

    async def minutes(self, low: float, high: float) -> None:
        await asyncio.sleep(self.rng.uniform(low, high) * 60 / self.speed)

    async def run_evse(self, station: SimulatedStation, evse_id: int) -> None:
        first = self.first_arrival is not None
        while True:
            if first:
                # real minutes: the first drivers come while someone is watching, at any speed
                await asyncio.sleep(self.rng.uniform(0, self.first_arrival) * 60)
                first = False
            else:
                await self.minutes(5, 60)
            if not station.online:
                continue
            try:
                await self._one_driver(station, evse_id)
            except COMMUNICATION_ERRORS as error:
                logger.info("%s/%s: %s", station.identity, evse_id, error)

    async def _one_driver(self, station: SimulatedStation, evse_id: int) -> None:
        evse = station.evses[evse_id]
        if evse.vehicle is not None or evse.status() != "Available":
            return  # reserved, unavailable or faulted: this driver goes elsewhere
        await station.plug_in(evse_id, self.vehicle())
        try:
            await station.start_session(evse_id, self.token())
        except SessionRefused:
            await self.minutes(0.5, 2)
            await station.unplug(evse_id)
            return
        await self.minutes(30, 240)
        if station.transaction(evse_id) is not None and self.rng.random() < 0.5:
            await station.stop_session(evse_id)
            await self.minutes(5, 45)
        if evse.vehicle is not None:
            await station.unplug(evse_id)


@dataclass
class Fleet:
    stations: list[SimulatedStation]
    scenario: DemoScenario | None = None
    stats_interval: float = 60.0

    async def run(self, stop: asyncio.Event, duration: float | None = None) -> None:
        """Bring every station up, play the scenario until ``stop`` is set or ``duration``
        seconds have passed, then end sessions and disconnect."""
        tasks = [asyncio.create_task(self._station_life(s, i)) for i, s in enumerate(self.stations)]
        tasks.append(asyncio.create_task(self._report()))
        try:
            await asyncio.wait_for(stop.wait(), timeout=duration)
        except TimeoutError:
            pass
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(self._shut_down(s) for s in self.stations))

    async def _station_life(self, station: SimulatedStation, index: int) -> None:
        # Spread the first connections so that a large fleet does not arrive in one burst.
        await asyncio.sleep(min(index * 0.02, 10.0))
        delay = 1.0
        while True:
            try:
                await station.connect()
                break
            except COMMUNICATION_ERRORS as error:
                pause = station.backoff_pause(delay, error)
                logger.warning("%s: %s; retrying in %.0f s", station.identity, error, pause)
                await asyncio.sleep(pause)
                delay = min(delay * 2, station.config.reconnect_max_delay)
        if self.scenario is not None:
            await asyncio.gather(
                *(self.scenario.run_evse(station, evse_id) for evse_id in station.evses)
            )
        else:
            await asyncio.Event().wait()

    async def _shut_down(self, station: SimulatedStation) -> None:
        try:
            async with asyncio.timeout(5):
                for evse_id, evse in station.evses.items():
                    if evse.transaction is not None and station.online:
                        await station.stop_session(evse_id, reason="Other")
        except COMMUNICATION_ERRORS as error:
            logger.info("%s: sessions left open: %s", station.identity, error)
        await station.close()

    async def _report(self) -> None:
        while True:
            await asyncio.sleep(self.stats_interval)
            logger.info("%s", self.summary())

    def summary(self) -> str:
        online = sum(1 for s in self.stations if s.online)
        charging = sum(
            1 for s in self.stations for e in s.evses.values() if e.transaction is not None
        )
        energy = sum(s.energy_wh(e) for s in self.stations for e in s.evses) / 1000
        queued = sum(len(s.queue) for s in self.stations)
        return (
            f"{online}/{len(self.stations)} stations online, {charging} sessions, "
            f"{energy:.1f} kWh metered, {queued} messages queued"
        )
