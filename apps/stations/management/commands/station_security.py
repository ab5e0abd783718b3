from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from apps.stations.choices import SecurityProfile
from apps.stations.models import Station
from apps.stations.services import station_security_settings_update, station_update
from apps.tenants.selectors import tenant_by_slug


class Command(BaseCommand):
    help = (
        "Set a station's OCPP security profile and/or the tenant's CSO name (the O a profile 3 "
        "certificate must carry; blank: not checked)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--station", help="OCPP identity of the station to change")
        parser.add_argument("--profile", type=int, choices=SecurityProfile.values)
        parser.add_argument("--cso-name", help='The tenant\'s CSO name ("" to stop checking O)')

    def handle(self, *args, **options):
        tenant = tenant_by_slug(options["tenant"])
        if tenant is None:
            raise CommandError(f"No tenant {options['tenant']!r}")
        if bool(options["station"]) != (options["profile"] is not None):
            raise CommandError("--station and --profile go together")
        if not options["station"] and options["cso_name"] is None:
            raise CommandError("Nothing to change: give --station/--profile or --cso-name")
        with tenant_context(tenant):
            try:
                if options["station"]:
                    station = Station.objects.filter(identity=options["station"]).first()
                    if station is None:
                        raise CommandError(f"No station {options['station']!r} in {tenant.slug}")
                    station_update(station=station, security_profile=options["profile"])
                    self.stdout.write(
                        f"{station.identity}: security profile {station.security_profile}"
                    )
                if options["cso_name"] is not None:
                    row = station_security_settings_update(cso_name=options["cso_name"])
                    self.stdout.write(f"{tenant.slug}: CSO name {row.cso_name!r}")
            except ValidationError as error:
                raise CommandError("; ".join(error.messages)) from error
