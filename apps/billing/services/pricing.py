"""Writes on tariffs, their versions and assignments, driver groups and accounts, taxes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.charging.models import IdToken
from apps.core import events
from apps.stations.models import Site, Station

from ..choices import DriverAccountKind, Provider
from ..models import (
    BillingProfile,
    DriverAccount,
    DriverAccountToken,
    DriverGroup,
    Tariff,
    TariffAssignment,
    TariffVersion,
    TaxRate,
)
from .display import price_displays_refresh
from .ledger import driver_ledger_account

CLOCK_SKEW = timedelta(seconds=60)


def price_start(effective_from: datetime | None) -> datetime:
    """When new prices take effect: ``effective_from``, or now when not given.  Now or later
    only (within ``CLOCK_SKEW`` of the caller's clock), so that a price change never reaches
    back in time (docs/billing.md); people's input for a tariff's first version is held to
    the same rule (API and portal)."""
    now = timezone.now()
    if effective_from is None:
        return now
    if effective_from < now - CLOCK_SKEW:
        raise ValidationError({"effective_from": _("A new price cannot take effect in the past.")})
    return effective_from


@transaction.atomic
def tariff_create(
    *,
    name: str,
    definition: dict[str, Any],
    description: str = "",
    effective_from: datetime | None = None,
    created_by=None,
) -> Tariff:
    """A tariff with its first version.  The service itself accepts a start in the past (a
    network's price history brought over from elsewhere, sessions replayed in tests); what
    people enter goes through ``price_start`` first (the API's input serializer, the portal's
    form)."""
    tariff = Tariff(name=name, description=description)
    tariff.full_clean()
    tariff.save()
    _version_create(tariff, definition, effective_from or timezone.now(), "", created_by, number=1)
    events.emit(events.TARIFF_CHANGED, tariff_id=tariff.pk)  # roaming publishes it
    return tariff


@transaction.atomic
def tariff_version_add(
    *,
    tariff: Tariff,
    definition: dict[str, Any],
    effective_from: datetime | None = None,
    note: str = "",
    created_by=None,
) -> TariffVersion:
    """New prices from ``effective_from`` (now or later: a driver is always charged the prices
    in force when they plugged in, so a price change never reaches back in time)."""
    effective_from = price_start(effective_from)
    tariff = Tariff.objects.select_for_update().get(pk=tariff.pk)
    number = (tariff.versions.aggregate(last=Max("number"))["last"] or 0) + 1
    version = _version_create(tariff, definition, effective_from, note, created_by, number=number)
    for assignment in tariff.assignments.filter(driver_group__isnull=True):
        _refresh_displays(assignment, at=effective_from)
    events.emit(events.TARIFF_CHANGED, tariff_id=tariff.pk)  # roaming publishes it
    return version


def _version_create(
    tariff, definition, effective_from, note, created_by, *, number
) -> TariffVersion:
    version = TariffVersion(
        tariff=tariff,
        number=number,
        definition=definition,
        effective_from=effective_from,
        note=note,
        created_by=created_by,
    )
    version.full_clean()
    # Store the normalised form: the same prices always read back the same way.
    version.definition = version.parsed.to_dict()
    version.save()
    return version


@transaction.atomic
def tariff_assign(
    *,
    tariff: Tariff,
    site: Site | None = None,
    station: Station | None = None,
    driver_group: DriverGroup | None = None,
    priority: int = 100,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> TariffAssignment:
    if station is not None:
        site = station.site
        if site is None:
            raise ValidationError({"station": "Put the station on a site before pricing it."})
    assignment = TariffAssignment(
        tariff=tariff,
        site=site,
        station=station,
        driver_group=driver_group,
        priority=priority,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    assignment.full_clean()
    assignment.save()
    _refresh_displays(assignment)
    return assignment


@transaction.atomic
def tariff_unassign(*, assignment: TariffAssignment) -> None:
    _refresh_displays(assignment)
    assignment.delete()


def _refresh_displays(assignment: TariffAssignment, *, at: datetime | None = None) -> None:
    """Stations' displays show the public price: refresh those a public assignment covers,
    now and when it starts or ends (or when a new version of its tariff takes effect)."""
    if assignment.driver_group_id is not None:
        return
    where = {"station_id": assignment.station_id, "site_id": assignment.site_id}
    now = timezone.now()
    if at is None or at <= now:
        price_displays_refresh(**where)
    for moment in {at, assignment.valid_from, assignment.valid_until}:
        if moment is not None and moment > now:
            price_displays_refresh(**where, at=moment)


@transaction.atomic
def driver_group_create(
    *, name: str, description: str = "", priority: int = 100, tokens: Iterable[IdToken] = ()
) -> DriverGroup:
    group = DriverGroup(name=name, description=description, priority=priority)
    group.full_clean()
    group.save()
    group.tokens.add(*tokens)
    return group


@transaction.atomic
def driver_group_add_tokens(*, group: DriverGroup, tokens: Iterable[IdToken]) -> None:
    group.tokens.add(*tokens)


@transaction.atomic
def tax_rate_set(
    *,
    site: Site,
    code: str,
    name: str,
    rate: Decimal,
    compound: bool = False,
    position: int = 0,
    registration_number: str = "",
) -> TaxRate:
    tax = TaxRate.objects.filter(site=site, code=code).first() or TaxRate(site=site, code=code)
    tax.name, tax.rate, tax.compound = name, rate, compound
    tax.position, tax.registration_number = position, registration_number
    tax.full_clean()
    tax.save()
    price_displays_refresh(site_id=site.pk)
    profile = BillingProfile.objects.first()
    if profile and profile.prices_include_tax and site.tax_rates.filter(compound=True).exists():
        raise ValidationError({"compound": "Compound taxes cannot be included in prices."})
    return tax


TAX_EDITABLE = {"code", "name", "rate", "compound", "position", "registration_number"}


@transaction.atomic
def tax_rate_update(*, tax: TaxRate, **fields) -> TaxRate:
    """Change a site's tax (code, name, rate...); the site's price displays follow."""
    unknown = set(fields) - TAX_EDITABLE
    if unknown:
        raise TypeError(f"Cannot change {sorted(unknown)} of a tax")
    for name, value in fields.items():
        setattr(tax, name, value)
    tax.full_clean()
    tax.save()
    profile = BillingProfile.objects.first()
    if profile and profile.prices_include_tax and tax.compound:
        raise ValidationError({"compound": _("Compound taxes cannot be included in prices.")})
    price_displays_refresh(site_id=tax.site_id)
    return tax


@transaction.atomic
def tax_rate_delete(*, tax: TaxRate) -> None:
    """Stop charging a tax at a site (receipts already issued keep their tax lines)."""
    site_id = tax.site_id
    tax.delete()
    price_displays_refresh(site_id=site_id)


PROFILE_EDITABLE = {
    "prices_include_tax",
    "legal_name",
    "payout_account_holder",
    "payout_iban",
    "payout_account_number",
    "payout_clearing_system",
    "payout_clearing_member_id",
    "payout_bic",
    "payout_country",
    "payout_file_format",
    "ocpi_country_code",
    "ocpi_party_id",
    "cost_update_interval_seconds",
}


@transaction.atomic
def billing_profile_update(**fields) -> BillingProfile:
    unknown = set(fields) - PROFILE_EDITABLE
    if unknown:
        raise TypeError(f"Cannot change {sorted(unknown)} of the billing profile")
    profile = BillingProfile.objects.select_for_update().first() or BillingProfile()
    for name, value in fields.items():
        setattr(profile, name, value)
    profile.full_clean()
    profile.save()
    if profile.prices_include_tax and TaxRate.objects.filter(compound=True).exists():
        raise ValidationError(
            {"prices_include_tax": _("Compound taxes cannot be included in prices.")}
        )
    if "prices_include_tax" in fields:
        price_displays_refresh()
    return profile


@transaction.atomic
def driver_account_create(
    *,
    name: str,
    kind: str = DriverAccountKind.PREPAID,
    email: str = "",
    credit_limit: Decimal = Decimal(0),
    tokens: Iterable[IdToken] = (),
    stripe_customer_id: str = "",
    stripe_payment_method_id: str = "",
) -> DriverAccount:
    account = DriverAccount(
        name=name,
        kind=kind,
        email=email,
        provider=Provider.STRIPE if kind == DriverAccountKind.CARD else Provider.INTERNAL,
        credit_limit=credit_limit,
        stripe_customer_id=stripe_customer_id,
        stripe_payment_method_id=stripe_payment_method_id,
    )
    account.full_clean()
    account.save()
    driver_ledger_account(account)
    for token in tokens:
        driver_account_link_token(account=account, token=token)
    return account


@transaction.atomic
def driver_account_link_token(*, account: DriverAccount, token: IdToken) -> DriverAccountToken:
    link = DriverAccountToken(account=account, token=token)
    link.full_clean()
    link.save()
    return link
