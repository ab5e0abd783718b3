"""Tenant benchmark: time to create a tenant (schema cloned from the template, domain, first
site admin) and to migrate N tenants, next to a plain ``CREATE SCHEMA`` + one table as the
baseline measured in the same run.

    .venv/bin/python bench/tenants.py --tenants 20
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

from _common import setup_django


def main(count: int) -> None:
    setup_django("chargegrid_bench_tenants")
    from django.core.management import call_command
    from django.db import connection

    from apps.tenants.models import Tenant
    from apps.tenants.services import template_ensure, tenant_create

    started = time.perf_counter()
    template_ensure()
    print(f"template schema ready:      {time.perf_counter() - started:.2f} s (once per database)")

    baseline = []
    for _ in range(5):
        name = f"bench_plain_{uuid.uuid4().hex[:8]}"
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE SCHEMA {name}; CREATE TABLE {name}.t (id bigserial primary key)"
            )
        baseline.append(time.perf_counter() - started)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA {name} CASCADE")

    created = []
    run = uuid.uuid4().hex[:6]
    for n in range(count):
        started = time.perf_counter()
        tenant_create(
            name=f"Bench {run} {n}",
            slug=f"b{run}-{n}",
            admin_email=f"admin{n}@bench.test",
            admin_password=None,
        )
        created.append(time.perf_counter() - started)
    connection.set_schema_to_public()
    tenants = Tenant.objects.exclude(schema_name="public").count()
    started = time.perf_counter()
    call_command("migrate_schemas", interactive=False, verbosity=0)
    migrate_all = time.perf_counter() - started

    print(f"plain CREATE SCHEMA+table:  {statistics.median(baseline) * 1000:.1f} ms (baseline)")
    print(
        f"create tenant:              median {statistics.median(created):.3f} s, "
        f"max {max(created):.3f} s over {count} tenants"
    )
    print(
        f"migrate all ({tenants} schemas, nothing to apply): {migrate_all:.2f} s "
        f"({migrate_all / tenants * 1000:.0f} ms per schema)"
    )
    for tenant in Tenant.objects.filter(slug__startswith=f"b{run}-"):
        tenant.delete(force_drop=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tenants", type=int, default=20)
    main(parser.parse_args().tenants)
