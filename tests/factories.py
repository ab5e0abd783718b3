"""factory_boy factories, one section per app.  Create inside an active tenant."""

import factory

from apps.accounts.models import User
from apps.stations.models import Site


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    full_name = factory.Faker("name")
    password = factory.django.Password("pw-test-12345")


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    name = factory.Sequence(lambda n: f"Site {n}")
    city = "Montréal"
    timezone = "America/Montreal"
    latitude = factory.Sequence(lambda n: f"{45 + (n % 100) / 1000:.6f}")
    longitude = factory.Sequence(lambda n: f"{-73.5 - (n % 100) / 1000:.6f}")
