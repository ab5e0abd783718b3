"""Group commit: writes of the same kind from many stations committed in one transaction."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from .dbpool import run_in_tenant

logger = logging.getLogger(__name__)


class GroupCommit:
    """Writes of the same kind from many stations, committed together.  The items that arrive
    while a write is in flight go into the next one; under light load a batch is a single
    item, so nothing waits for a timer.  ``write(items=[...])`` runs in the tenant's schema on
    the OCPP pool and returns one result per item.  Each caller gets its result only after the
    commit, so nothing a station may discard on our answer is unsaved.  If a batch fails, its
    items are retried one by one, so one bad item fails alone (the handler raises and the
    station gets an InternalError CallError)."""

    def __init__(
        self,
        write: Callable[..., list],
        *,
        max_batch: int = 500,
        writers_per_tenant: int = 4,
        runner: Callable[..., Any] = run_in_tenant,
    ) -> None:
        self.write = write
        self.runner = runner
        self.max_batch = max_batch
        self.writers_per_tenant = writers_per_tenant
        self._pending: dict[Any, list[tuple[Any, asyncio.Future]]] = defaultdict(list)
        self._writers: dict[Any, int] = defaultdict(int)

    async def submit(self, tenant, item) -> Any:
        future = asyncio.get_running_loop().create_future()
        self._pending[tenant].append((item, future))
        if self._writers[tenant] < self.writers_per_tenant:
            self._writers[tenant] += 1
            asyncio.get_running_loop().create_task(self._drain(tenant))
        return await future

    async def _drain(self, tenant) -> None:
        try:
            while self._pending[tenant]:
                queue = self._pending[tenant]
                batch, self._pending[tenant] = queue[: self.max_batch], queue[self.max_batch :]
                await self._commit(tenant, batch)
        finally:
            self._writers[tenant] -= 1
            if not self._pending[tenant]:
                self._pending.pop(tenant, None)
                self._writers.pop(tenant, None)

    async def _commit(self, tenant, batch) -> None:
        try:
            results = await self.runner(tenant, self.write, items=[item for item, _ in batch])
        except Exception:
            if len(batch) == 1:
                ((item, future),) = batch
                logger.exception("Could not store %r", item)
                if not future.done():
                    future.set_exception(RuntimeError("not stored"))
                return
            for one in batch:
                await self._commit(tenant, [one])
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


def _write_meter_values(*, items: list) -> list[int]:
    from apps.charging.services import meter_values_record_batch

    return meter_values_record_batch(reports=items)


def _write_seen(*, items: list[tuple[int, str]]) -> list[None]:
    from apps.stations.services import stations_seen

    stations_seen(links=items)
    return [None] * len(items)


def _write_boots(*, items: list[dict]) -> list[tuple[str, int]]:
    from apps.stations.services import stations_boot

    return stations_boot(boots=items)


def _write_statuses(*, items: list[dict]) -> list[None]:
    from .services import status_reports

    return status_reports(reports=items)


meter_batcher = GroupCommit(_write_meter_values)
boot_batcher = GroupCommit(_write_boots)
status_batcher = GroupCommit(_write_statuses)
seen_batcher = GroupCommit(_write_seen)
