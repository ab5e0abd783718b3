import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.tenants.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant (its schema, domain and first site admin)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-password", default=None)
        parser.add_argument("--currency", default=None)
        parser.add_argument("--timezone", default="UTC")
        parser.add_argument("--language", default="en", choices=["en", "fr"])
        parser.add_argument("--domain", default=None)

    def handle(self, *args, **options):
        started = time.perf_counter()
        try:
            tenant = tenant_create(
                name=options["name"],
                slug=options["slug"],
                admin_email=options["admin_email"],
                admin_password=options["admin_password"],
                currency=options["currency"],
                timezone=options["timezone"],
                language=options["language"],
                domain=options["domain"],
            )
        except ValidationError as error:
            raise CommandError(
                error.message_dict if hasattr(error, "message_dict") else error.messages
            ) from error
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Created tenant {tenant.slug} (schema {tenant.schema_name}, "
            f"https://{tenant.get_primary_domain()}) in {elapsed:.2f}s"
        )
