from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from apps.stations.models import Site
from apps.stations.services import station_register
from apps.tenants.selectors import tenant_by_slug


class Command(BaseCommand):
    help = "Register a station (identity, password, site) in a tenant so that it can connect."

    def add_arguments(self, parser):
        parser.add_argument("identity")
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--site", default=None, help="Site name (must exist)")
        parser.add_argument("--evses", type=int, default=1)
        parser.add_argument("--max-current", type=float, default=32)
        parser.add_argument("--phases", type=int, default=3, choices=[1, 3])

    def handle(self, *args, **options):
        tenant = tenant_by_slug(options["tenant"])
        if tenant is None:
            raise CommandError(f"No tenant {options['tenant']!r}")
        with tenant_context(tenant):
            site = None
            if options["site"]:
                site = Site.objects.filter(name=options["site"]).first()
                if site is None:
                    raise CommandError(f"No site {options['site']!r} in {tenant.slug}")
            try:
                station = station_register(
                    identity=options["identity"],
                    password=options["password"],
                    site=site,
                    evse_count=options["evses"],
                    max_current_a=options["max_current"],
                    phases=options["phases"],
                )
            except ValidationError as error:
                raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(f"Registered station {station.identity} in {tenant.slug}")
