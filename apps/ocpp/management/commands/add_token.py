from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from apps.charging.services import token_create
from apps.tenants.selectors import tenant_by_slug


class Command(BaseCommand):
    help = "Add an authorisation token (RFID card uid, eMAID, ...) to a tenant."

    def add_arguments(self, parser):
        parser.add_argument("uid")
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--type", default="ISO14443")
        parser.add_argument("--label", default="")

    def handle(self, *args, **options):
        tenant = tenant_by_slug(options["tenant"])
        if tenant is None:
            raise CommandError(f"No tenant {options['tenant']!r}")
        with tenant_context(tenant):
            token = token_create(
                uid=options["uid"], token_type=options["type"], label=options["label"]
            )
        self.stdout.write(f"Added token {token.uid} to {tenant.slug}")
