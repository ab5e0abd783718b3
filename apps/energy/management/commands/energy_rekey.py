"""Re-encrypt every VEN private key under the first of ``ENERGY_SECRET_KEYS`` (after putting a
new secret first, before dropping the old one): ``manage.py energy_rekey [--schema t_acme]``."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django_tenants.utils import get_tenant_model, schema_context

from apps.energy.services import ven_keys_rotate


class Command(BaseCommand):
    help = "Re-encrypt the OpenADR VEN private keys under the first ENERGY_SECRET_KEYS secret."

    def add_arguments(self, parser):
        parser.add_argument("--schema", action="append", help="a tenant's schema (default: all)")

    def handle(self, *args, schema=None, **options):
        schemas = schema or [
            tenant.schema_name
            for tenant in get_tenant_model().objects.exclude(schema_name="public")
        ]
        total = 0
        for name in schemas:
            with schema_context(name):
                done = ven_keys_rotate()
            total += done
            self.stdout.write(f"{name}: {done} key(s) re-encrypted")
        self.stdout.write(f"{total} in all")
