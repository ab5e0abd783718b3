"""factory_boy factories, one section per app.  Create inside an active tenant.

Rows are built directly (``Model.objects.create``) with valid defaults; a test that needs a row
as the product makes it (a station registered with its password, a tariff validated) goes
through that app's service instead.
"""

import datetime as dt
from decimal import Decimal

import factory

from apps.accounts.models import User
from apps.charging.choices import SessionStatus
from apps.charging.models import ChargingSession, IdToken, MeterValue
from apps.stations.models import Connector, Evse, Site, Station

T0 = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)  # a Monday afternoon


# --- accounts ---------------------------------------------------------------------------------
class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    full_name = factory.Faker("name")
    password = factory.django.Password("pw-test-12345")


# --- stations ---------------------------------------------------------------------------------
class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    name = factory.Sequence(lambda n: f"Site {n}")
    city = "Montréal"
    timezone = "America/Montreal"
    latitude = factory.Sequence(lambda n: f"{45 + (n % 100) / 1000:.6f}")
    longitude = factory.Sequence(lambda n: f"{-73.5 - (n % 100) / 1000:.6f}")


class StationFactory(factory.django.DjangoModelFactory):
    """A station seen online, with ``evses`` EVSEs (two unless said) of one connector each, all
    in one status: ``StationFactory(site=site, evses=2, evses__status="Charging")``."""

    class Meta:
        model = Station
        skip_postgeneration_save = True

    site = factory.SubFactory(SiteFactory)
    identity = factory.Sequence(lambda n: f"ST-{n:05d}")
    name = factory.LazyAttribute(lambda station: f"{station.identity} name")
    vendor = "Acme"
    model = "AC22"
    firmware_version = "1.2.3"
    ocpp_version = "1.6"
    is_online = True
    last_seen_at = T0

    @factory.post_generation
    def evses(station, create, count, **kwargs):
        if not create:
            return
        for number in range(1, (2 if count is None else count) + 1):
            EvseFactory(station=station, evse_id=number, status=kwargs.get("status", "Available"))


class EvseFactory(factory.django.DjangoModelFactory):
    """An EVSE with its connector 1."""

    class Meta:
        model = Evse
        skip_postgeneration_save = True

    station = factory.SubFactory(StationFactory, evses=0)
    evse_id = factory.Sequence(lambda n: n + 1)
    status = "Available"
    connector = factory.RelatedFactory("tests.factories.ConnectorFactory", "evse")


class ConnectorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Connector

    evse = factory.SubFactory(EvseFactory, connector=None)
    connector_id = 1


# --- charging ---------------------------------------------------------------------------------
class IdTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdToken

    uid = factory.Sequence(lambda n: f"TOKEN{n:07d}")


class ChargingSessionFactory(factory.django.DjangoModelFactory):
    """A completed session on the station's first EVSE: one hour from ``T0``, 7 kWh.
    ``active=True`` makes it a running one (no end, no stop reading)."""

    class Meta:
        model = ChargingSession

    class Params:
        active = factory.Trait(
            status=SessionStatus.ACTIVE, ended_at=None, meter_stop_wh=None, meter_last_wh=None
        )

    station = factory.SubFactory(StationFactory)
    evse = factory.LazyAttribute(lambda session: session.station.evses.order_by("evse_id").first())
    transaction_id = factory.Sequence(lambda n: f"tx-{n}")
    token = None
    id_token = factory.LazyAttribute(lambda session: session.token.uid if session.token else "")
    status = SessionStatus.COMPLETED
    started_at = T0
    ended_at = factory.LazyAttribute(lambda session: session.started_at + dt.timedelta(hours=1))
    meter_start_wh = 1000
    energy_wh = 7000
    meter_stop_wh = factory.LazyAttribute(
        lambda session: session.meter_start_wh + session.energy_wh
    )
    meter_last_wh = factory.LazyAttribute(
        lambda session: session.meter_start_wh + session.energy_wh
    )


class MeterValueFactory(factory.django.DjangoModelFactory):
    """An energy register reading of a session (``value`` in Wh)."""

    class Meta:
        model = MeterValue

    session = factory.SubFactory(ChargingSessionFactory)
    station = factory.LazyAttribute(lambda reading: reading.session.station)
    evse_id = factory.LazyAttribute(lambda reading: reading.session.evse.evse_id)
    timestamp = factory.LazyAttribute(
        lambda reading: reading.session.started_at + dt.timedelta(minutes=15)
    )
    measurand = "Energy.Active.Import.Register"
    unit = "Wh"
    value = Decimal("2500")
