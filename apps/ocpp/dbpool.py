"""The OCPP pool: how a station's handlers run ORM work, in their tenant, off the event loop.

ORM work runs on a dedicated pool of threads, each owning one PostgreSQL connection for its
lifetime (reopened only when it breaks).  We do not use ``database_sync_to_async``: its single shared thread
serialises every station's DB work, and with ``thread_sensitive=False`` asgiref carries the
caller's context (and so its connection object) from thread to thread and into tasks spawned
from it, so two threads could end up in one transaction.  ``run_in_executor`` copies no
context, so Django's connection handler sees each worker thread on its own.  Every job sets
its tenant first: a thread's connection keeps whatever schema the previous job left.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection
from django_tenants.utils import get_public_schema_name

from apps.core import broadcast, events

from .coalesce import coalescer

T = TypeVar("T")

_executor: concurrent.futures.ThreadPoolExecutor | None = None


def _pool() -> concurrent.futures.ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=settings.OCPP_DB_THREADS, thread_name_prefix="ocpp-db"
        )
    return _executor


def _in_tenant(tenant, func: Callable[..., T], kwargs: dict[str, Any]) -> T:
    # The thread keeps its connection between jobs (nothing here ends a "request"); drop it
    # only when it broke, so the next query reconnects.
    if connection.connection is not None and connection.errors_occurred:
        if not connection.is_usable():
            connection.close()
        connection.errors_occurred = False
    # Switch schema only when the tenant changes: django-tenants re-issues ``SET search_path``
    # after every set_tenant/set_schema, one round trip per job (a fifth of the OCPP pool's
    # time under load).  Keeping the schema is safe because django-tenants forgets the path
    # it set whenever a rollback (or savepoint rollback) could have reverted it.
    if tenant is None:
        if connection.schema_name != get_public_schema_name():
            connection.set_schema_to_public()
    elif connection.schema_name != tenant.schema_name:
        connection.set_tenant(tenant)
    else:
        connection.tenant = tenant
    return func(**kwargs)


def _job(tenant, func: Callable[..., T], kwargs: dict[str, Any]) -> tuple[T, dict[str, int]]:
    coalescer.job_started()  # station events this job commits are coalesced (coalesce.py)
    try:
        return _in_tenant(tenant, func, kwargs), coalescer.job_finished()
    except BaseException:
        coalescer.job_finished()
        raise


def _register(loop: asyncio.AbstractEventLoop) -> None:
    broadcast.register_loop(loop)  # live events from the pool's threads are sent on this loop
    coalescer.register_loop(loop)
    if events._coalescer is not coalescer:
        events.set_coalescer(coalescer)


async def run_in_tenant(tenant, func: Callable[..., T], /, **kwargs: Any) -> T:
    """Run sync ORM code for ``tenant`` (None: the public schema) off the event loop.  If it
    emitted station events, return once their (coalesced) handlers have run."""
    loop = asyncio.get_running_loop()
    _register(loop)
    result, marks = await loop.run_in_executor(
        _pool(), functools.partial(_job, tenant, func, kwargs)
    )
    if marks:
        await coalescer.delivered(marks)
    return result


async def run_in_tenant_nowait(tenant, func: Callable[..., T], /, **kwargs: Any) -> T:
    """``run_in_tenant`` that returns without waiting for the station events it emitted
    (they are delivered in their batch all the same, in order)."""
    loop = asyncio.get_running_loop()
    _register(loop)
    result, _ = await loop.run_in_executor(_pool(), functools.partial(_job, tenant, func, kwargs))
    return result


async def run_in_pool(tenant, func: Callable[..., T], /, **kwargs: Any) -> T:
    """``run_in_tenant`` without coalescing or waiting: how the coalescer delivers a batch
    (events its handlers emit are delivered after their own commits)."""
    loop = asyncio.get_running_loop()
    _register(loop)
    return await loop.run_in_executor(_pool(), functools.partial(_in_tenant, tenant, func, kwargs))
