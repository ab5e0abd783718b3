"""Fixtures for the simulator: a manual clock and a real OCPP central system to talk to."""

from __future__ import annotations

import pytest

from apps.simulator.clock import ManualClock
from apps.simulator.station import SimulatedStation, StationConfig

from .csms import FakeCsms


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def csms():
    async with FakeCsms() as server:
        yield server


@pytest.fixture(params=["1.6", "2.0.1"])
def version(request) -> str:
    return request.param


@pytest.fixture
async def make_station(csms, clock):
    """Stations on the test CSMS; steps that take station time (reboot, transfers) take none."""
    created: list[SimulatedStation] = []

    def make(version: str = "1.6", identity: str | None = None, **overrides) -> SimulatedStation:
        options = {
            "identity": identity or f"SIM-{version}",
            "url": csms.url,
            "password": "pw",
            "version": version,
            "reboot_delay": 0,
            "transfer_seconds": 0,
            "response_timeout": 5,
            "reconnect_delay": 0.05,
            **overrides,
        }
        station = SimulatedStation(StationConfig(**options), clock)
        created.append(station)
        return station

    yield make
    for station in created:
        await station.close()
