"""A connected station as its handlers see it: its tenant, identity and version, and the ways
its writes reach the database (the pool, or group commits shared with other stations)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .dbpool import run_in_tenant
from .groupcommit import boot_batcher, meter_batcher, seen_batcher, status_batcher

T = TypeVar("T")


@dataclass
class StationLink:
    tenant: Any
    station_id: int
    identity: str
    version: str
    connection_id: str
    lax: bool = False
    registration_status: str = "Accepted"
    last_touch: float = field(default_factory=time.monotonic)

    async def db(self, func: Callable[..., T], /, **kwargs: Any) -> T:
        return await run_in_tenant(self.tenant, func, **kwargs)

    async def meter_values(self, report) -> int:
        """Store a MeterValues report (group-committed with other stations')."""
        return await meter_batcher.submit(self.tenant, report)

    async def boot(self, **fields: Any) -> tuple[str, int]:
        """Record a BootNotification (group-committed with other stations'); returns the
        registration status and heartbeat interval."""
        return await boot_batcher.submit(self.tenant, {"station_id": self.station_id, **fields})

    async def status(self, **fields: Any) -> None:
        """Record a StatusNotification (group-committed with other stations', in order)."""
        await status_batcher.submit(self.tenant, {"station_id": self.station_id, **fields})

    async def seen(self) -> None:
        """Record liveness (group-committed with other stations')."""
        await seen_batcher.submit(self.tenant, (self.station_id, self.connection_id))
