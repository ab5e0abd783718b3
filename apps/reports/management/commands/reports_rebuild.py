"""Recompute the rollups of a range from the raw rows (the same numbers as the incremental
pipeline): ``manage.py reports_rebuild --schema t_acme --start 2026-01-01 --end 2026-02-01``."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from apps.reports.services import rollup_rebuild


def _moment(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"Not an ISO date or time: {text!r}") from error
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class Command(BaseCommand):
    help = "Recompute the 15-minute and daily rollups of [start, end) from the raw rows."

    def add_arguments(self, parser):
        parser.add_argument("--schema", required=True, help="the tenant's schema")
        parser.add_argument("--start", required=True, help="ISO date/time (UTC if no offset)")
        parser.add_argument("--end", required=True, help="ISO date/time, excluded")
        parser.add_argument("--port", type=int, action="append", help="a port (EVSE) pk")

    def handle(self, *args, schema: str, start: str, end: str, port=None, **options):
        begin, finish = _moment(start), _moment(end)
        if finish <= begin:
            raise CommandError("--end must be after --start")
        with schema_context(schema):
            done = rollup_rebuild(start=begin, end=finish, evse_ids=port)
        self.stdout.write(f"{done} quarter hours recomputed")
