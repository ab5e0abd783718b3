"""The OCPP pool keeps a thread's schema between jobs of one tenant (no SET per job), and a
rollback never leaves a job in another tenant's schema."""

from __future__ import annotations

import concurrent.futures

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.ocpp.dbpool import _in_tenant


def _search_path() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        return cursor.fetchone()[0]


def _statements() -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        path = _search_path()
    return path, [query["sql"] for query in captured.captured_queries]


def _fails_after_switching() -> None:
    with transaction.atomic():
        _search_path()  # the SET for this tenant is issued inside this transaction
        raise RuntimeError("the job fails; its transaction rolls back")


def _fails_in_a_savepoint() -> str:
    with transaction.atomic():
        try:
            with transaction.atomic():
                _search_path()
                raise RuntimeError("inner")
        except RuntimeError:
            pass
        return _search_path()


@pytest.fixture
def one_thread():
    """A worker thread with its own connection, like one thread of the OCPP pool."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)

    def run(tenant, func, **kwargs):
        return pool.submit(_in_tenant, tenant, func, kwargs).result()

    yield run
    pool.submit(lambda: connection.close()).result()
    pool.shutdown()


def test_jobs_of_one_tenant_set_the_schema_once(one_thread, alpha, beta):
    path, first = one_thread(alpha, _statements)
    assert path.startswith(alpha.schema_name)
    assert any(sql.startswith("SET search_path") for sql in first)

    path, second = one_thread(alpha, _statements)
    assert path.startswith(alpha.schema_name)
    assert second == ["SHOW search_path"]  # no SET: the thread is still in alpha's schema

    path, switched = one_thread(beta, _statements)
    assert path.startswith(beta.schema_name)
    assert any(sql.startswith("SET search_path") for sql in switched)

    path, _ = one_thread(None, _statements)
    assert path == "public"


def test_a_rolled_back_switch_is_redone_by_the_next_job(one_thread, alpha, beta):
    assert one_thread(beta, _search_path).startswith(beta.schema_name)
    with pytest.raises(RuntimeError):
        one_thread(alpha, _fails_after_switching)  # PostgreSQL reverts to beta's path
    assert one_thread(alpha, _search_path).startswith(alpha.schema_name)

    assert one_thread(beta, _search_path).startswith(beta.schema_name)
    assert one_thread(alpha, _fails_in_a_savepoint).startswith(alpha.schema_name)
    assert one_thread(alpha, _search_path).startswith(alpha.schema_name)
