"""Reads: which tariff prices a session, a session's timeline, balances, lists for the portal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone as django_timezone

from apps.charging.models import ChargingSession, IdToken, MeterValue
from apps.core.scoping import Actor
from apps.stations.models import Station

from .choices import PayoutStatus
from .conf import platform_fee
from .engine import (
    AssignmentCandidate,
    MeterInterval,
    SessionTimeline,
    TaxPolicy,
    select_assignment,
)
from .engine import Tariff as TariffDefinition
from .engine import TaxRate as EngineTaxRate
from .models import (
    BillingProfile,
    DriverAccount,
    DriverGroup,
    LedgerAccount,
    LedgerEntry,
    Payout,
    SessionCost,
    Tariff,
    TariffAssignment,
    TariffVersion,
    TaxRate,
)
from .pricing_text import describe_tariff, tariff_components
from .wizard import WizardAnswers, propose

ENERGY_REGISTER = "Energy.Active.Import.Register"


def tenant_currency() -> str:
    return connection.tenant.currency


def billing_profile() -> BillingProfile:
    """The tenant's billing settings (defaults until someone saves them)."""
    return BillingProfile.objects.first() or BillingProfile()


# --- Which tariff --------------------------------------------------------------------------


@dataclass(frozen=True)
class TariffChoice:
    version: TariffVersion | None
    assignment: TariffAssignment | None
    driver_group: DriverGroup | None


def token_group_ids(token: IdToken | None) -> dict[int, DriverGroup]:
    if token is None:
        return {}
    return {group.pk: group for group in DriverGroup.objects.filter(tokens=token)}


def token_for_uid(uid: str) -> IdToken | None:
    if not uid:
        return None
    return IdToken.objects.filter(uid=uid).order_by("pk").first()


def version_in_force(tariff_id: int, at: datetime) -> TariffVersion | None:
    return (
        TariffVersion.objects.filter(tariff_id=tariff_id, effective_from__lte=at)
        .select_related("tariff")
        .order_by("-effective_from")
        .first()
    )


def tariff_for(*, station: Station, token: IdToken | None, at: datetime) -> TariffChoice:
    """The tariff version that prices a session at ``station`` for ``token`` starting ``at``.

    Only active tariffs with a version in force at ``at`` and assignments valid at ``at``
    compete; ``engine.select_assignment`` applies the precedence.  No assignment: free.
    """
    groups = token_group_ids(token)
    assignments = (
        TariffAssignment.objects.filter(tariff__is_active=True)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=at))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=at))
        .filter(Q(station__isnull=True) | Q(station=station))
        .filter(Q(site__isnull=True) | Q(site_id=station.site_id))
        .filter(Q(driver_group__isnull=True) | Q(driver_group_id__in=list(groups)))
        .select_related("driver_group")
    )
    versions: dict[int, TariffVersion] = {}
    candidates = []
    by_id = {}
    for assignment in assignments:
        if assignment.tariff_id not in versions:
            version = version_in_force(assignment.tariff_id, at)
            if version is None:
                continue
            versions[assignment.tariff_id] = version
        by_id[assignment.pk] = assignment
        candidates.append(
            AssignmentCandidate(
                assignment_id=assignment.pk,
                tariff_id=assignment.tariff_id,
                station_id=assignment.station_id,
                site_id=assignment.site_id,
                group_id=assignment.driver_group_id,
                group_priority=assignment.driver_group.priority if assignment.driver_group else 0,
                priority=assignment.priority,
            )
        )
    chosen = select_assignment(
        candidates, station_id=station.pk, site_id=station.site_id, group_ids=groups
    )
    if chosen is None:
        return TariffChoice(None, None, None)
    assignment = by_id[chosen.assignment_id]
    return TariffChoice(versions[chosen.tariff_id], assignment, assignment.driver_group)


def tax_policy_for_site(site_id: int | None) -> TaxPolicy:
    profile = billing_profile()
    rates = TaxRate.objects.filter(site_id=site_id).order_by("position", "code") if site_id else []
    return TaxPolicy(
        rates=tuple(EngineTaxRate(r.code, r.name, r.rate, r.compound) for r in rates),
        prices_include_tax=profile.prices_include_tax,
    )


@dataclass(frozen=True)
class PriceQuote:
    """What a driver would pay at a station if they plugged in at ``at``."""

    station: Station
    at: datetime
    token_uid: str
    token_known: bool
    choice: TariffChoice
    tariff: TariffDefinition
    taxes: TaxPolicy
    summary: str
    components: list[dict]

    @property
    def currency(self) -> str:
        return self.tariff.currency


def price_quote(*, station: Station, token_uid: str = "", at: datetime | None = None) -> PriceQuote:
    """The tariff that would price a session started now (the same choice as ``session_bill``
    makes, through ``tariff_for``), described for drivers in the active language."""
    at = at or django_timezone.now()
    token = token_for_uid(token_uid)
    choice = tariff_for(station=station, token=token, at=at)
    tariff = choice.version.parsed if choice.version else TariffDefinition(tenant_currency())
    taxes = tax_policy_for_site(station.site_id)
    return PriceQuote(
        station=station,
        at=at,
        token_uid=token_uid,
        token_known=token is not None,
        choice=choice,
        tariff=tariff,
        taxes=taxes,
        summary=describe_tariff(tariff, taxes),
        components=tariff_components(tariff),
    )


def driver_account_for_token(token: IdToken | None) -> DriverAccount | None:
    if token is None:
        return None
    return DriverAccount.objects.filter(token_links__token=token, is_active=True).first()


# --- A session's timeline ------------------------------------------------------------------


def session_timeline(session: ChargingSession, *, timezone: str) -> SessionTimeline:
    """Meter intervals between consecutive energy register readings, from plug-in to plug-out.

    The register is the authority (never summed twice): readings run from ``meter_start_wh``
    at the start to ``meter_stop_wh`` at the end.  Readings that go backwards are ignored.
    When the readings do not account for the session's energy (a missing start or stop), the
    session's ``energy_wh`` is spread evenly over the charging time instead.
    """
    started, ended = session.started_at, session.ended_at
    charging_end = session.charging_ended_at
    readings: list[tuple[datetime, int]] = []
    if session.meter_start_wh is not None:
        readings.append((started, session.meter_start_wh))
    samples = (
        MeterValue.objects.filter(
            session=session,
            measurand=ENERGY_REGISTER,
            phase="",
            location__in=["", "Outlet"],
            timestamp__gt=started,
            timestamp__lt=ended,
        )
        .order_by("timestamp")
        .values_list("timestamp", "value")
    )
    for timestamp, value in samples:
        readings.append((timestamp, int(value)))
    if session.meter_stop_wh is not None:
        readings.append((ended, session.meter_stop_wh))

    intervals: list[MeterInterval] = []
    if len(readings) >= 2:
        previous_time, previous_value = readings[0]
        for timestamp, value in readings[1:]:
            if value < previous_value or timestamp <= previous_time:
                continue
            intervals.append(MeterInterval(previous_time, timestamp, value - previous_value))
            previous_time, previous_value = timestamp, value
    if sum(i.energy_wh for i in intervals) != session.energy_wh:
        until = charging_end or ended
        intervals = [MeterInterval(started, until, session.energy_wh)] if session.energy_wh else []
    return SessionTimeline(
        started_at=started,
        ended_at=ended,
        timezone=timezone,
        intervals=tuple(intervals),
        charging_ended_at=charging_end,
    )


# --- Ledger --------------------------------------------------------------------------------


def account_balance(code: str, *, until: datetime | None = None) -> Decimal:
    """Debit-positive balance of an account: the sum of its entries (never stored)."""
    entries = LedgerEntry.objects.filter(account__code=code)
    if until is not None:
        entries = entries.filter(transaction__effective_at__lt=until)
    return entries.aggregate(total=Sum("amount"))["total"] or Decimal(0)


def trial_balance() -> list[tuple[LedgerAccount, Decimal]]:
    totals = dict(
        LedgerEntry.objects.values_list("account_id").annotate(total=Sum("amount")).order_by()
    )
    return [
        (account, totals.get(account.pk, Decimal(0))) for account in LedgerAccount.objects.all()
    ]


def ledger_total() -> Decimal:
    """Sum of every entry of the ledger: always zero."""
    return LedgerEntry.objects.aggregate(total=Sum("amount"))["total"] or Decimal(0)


def driver_balance(account: DriverAccount) -> Decimal:
    """Funds the driver has with us (negative: what they owe)."""
    return -account_balance(account.ledger_code)


# --- Lists for the portal and the API (scoped) -----------------------------------------------


def tariff_list(*, actor: Actor) -> QuerySet[Tariff]:
    return Tariff.objects.restrict(actor, "billing.view").prefetch_related("versions")


def session_receipt(session: ChargingSession) -> SessionCost | None:
    """A session's priced receipt with what it prints (lines, station, site), or ``None``
    while it is not priced."""
    return (
        SessionCost.objects.filter(session=session)
        .select_related("session__station__site")
        .prefetch_related("lines")
        .first()
    )


def payout_list(*, actor: Actor) -> QuerySet[Payout]:
    return Payout.objects.restrict(actor, "billing.manage")


def wizard_proposal(**answers):
    """The pricing wizard for this tenant (its currency, the platform's fee)."""
    return propose(
        WizardAnswers(
            currency=tenant_currency(),
            platform_fee_percent=platform_fee().percent,
            **{key: value for key, value in answers.items() if value is not None},
        )
    )


def payout_statement_rows(payout: Payout) -> list[list[str]]:
    """The payout statement as rows (CSV download): header, lines, total."""
    rows = [
        ["period", f"{payout.period_start:%Y-%m}"],
        ["currency", payout.currency],
        ["status", payout.status],
        [],
        ["position", "kind", "description", "count", "amount"],
    ]
    lines = list(payout.lines.order_by("position"))
    for line in lines:
        rows.append(
            [str(line.position), line.kind, line.description, str(line.count), f"{line.amount:f}"]
        )
    rows.append(["", "", "Total", "", f"{sum((line.amount for line in lines), Decimal(0)):f}"])
    rows.append(["", "", "Paid", "", f"{payout.amount:f}"])
    return rows


@dataclass(frozen=True)
class PublicPrice:
    """What a driver who belongs to no group pays at a station now, and which assignment
    says so (None: charging is free there)."""

    station: Station
    assignment: TariffAssignment | None
    version: TariffVersion | None


def public_prices(*, actor: Actor, at: datetime) -> list[PublicPrice]:
    """Per station the actor may see (``billing.view``), the public tariff in force ``at``:
    the same precedence as ``tariff_for`` (``engine.select_assignment``), computed for every
    station from one read of the assignments and versions."""
    assignments = list(
        TariffAssignment.objects.filter(tariff__is_active=True, driver_group__isnull=True)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=at))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=at))
        .select_related("tariff")
    )
    versions: dict[int, TariffVersion] = {}
    for version in (
        TariffVersion.objects.filter(
            tariff_id__in={a.tariff_id for a in assignments}, effective_from__lte=at
        )
        .select_related("tariff")
        .order_by("tariff_id", "-effective_from")
    ):
        versions.setdefault(version.tariff_id, version)
    candidates = [
        AssignmentCandidate(
            assignment_id=a.pk,
            tariff_id=a.tariff_id,
            station_id=a.station_id,
            site_id=a.site_id,
            priority=a.priority,
        )
        for a in assignments
        if a.tariff_id in versions
    ]
    by_id = {a.pk: a for a in assignments}
    stations = (
        Station.objects.restrict(actor, "billing.view")
        .select_related("site")
        .order_by("site__name", "identity")
    )
    prices = []
    for station in stations:
        chosen = select_assignment(candidates, station_id=station.pk, site_id=station.site_id)
        assignment = by_id[chosen.assignment_id] if chosen else None
        version = versions[chosen.tariff_id] if chosen else None
        prices.append(PublicPrice(station, assignment, version))
    return prices


def payout_closed_months(*, now: datetime | None = None, count: int = 12) -> list:
    """The last ``count`` months that have ended on the tenant's clock, newest first: the
    periods a payout may be previewed or run for."""
    from .services.payouts import last_completed_month, month_start  # noqa: PLC0415  (services import selectors)

    month = last_completed_month(now)
    months = []
    for _ in range(count):
        months.append(month)
        month = month_start(month - timedelta(days=1))
    return months


@dataclass(frozen=True)
class PayoutPreview:
    period_start: date
    currency: str
    lines: list
    amount: Decimal
    payout: Payout | None  # already built for this period


def payout_preview(*, period_start: date) -> PayoutPreview:
    """What the payout of a month would pay if built now (nothing is written): the same
    statement ``payout_run`` builds.  A payout already built shows its own lines."""
    from .services.payouts import month_start, payout_statement  # noqa: PLC0415  (services import selectors)

    period_start = month_start(period_start)
    currency = tenant_currency()
    built = (
        Payout.objects.filter(period_start=period_start)
        .exclude(status=PayoutStatus.PENDING)
        .first()
    )
    if built is not None:
        lines = list(built.lines.order_by("position"))
        return PayoutPreview(period_start, built.currency, lines, built.amount, built)
    lines, owed_by_account = payout_statement(period_start)
    owed = sum(owed_by_account.values(), Decimal(0))
    return PayoutPreview(period_start, currency, lines, max(owed, Decimal(0)), None)


def ocpi_tariff_ids(*, stations: list[Station], at: datetime) -> dict[int, list[str]]:
    """roaming: the OCPI Tariff ids (``<tariff>-<number>``, as ``handlers.ocpi_tariffs``
    publishes them) that price a roaming driver (no driver group) at each station: the version
    of the chosen tariff in force at ``at`` and those that follow it.  Few queries for a whole
    page of stations: the assignments and versions are read once, the precedence applied here."""
    site_ids = {station.site_id for station in stations}
    assignments = list(
        TariffAssignment.objects.filter(tariff__is_active=True, driver_group__isnull=True)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=at))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=at))
        .filter(Q(station__isnull=True) | Q(station__in=[s.pk for s in stations]))
        .filter(Q(site__isnull=True) | Q(site_id__in=site_ids))
    )
    chains: dict[int, list[TariffVersion]] = {}
    for version in TariffVersion.objects.filter(
        tariff_id__in={a.tariff_id for a in assignments}
    ).order_by("tariff_id", "effective_from"):
        chains.setdefault(version.tariff_id, []).append(version)
    published: dict[int, list[str]] = {}
    for tariff_id, chain in chains.items():
        current = [v for v in chain if v.effective_from <= at][-1:]
        if current:  # a tariff not in force yet prices nothing now
            later = [v for v in chain if v.effective_from > at]
            published[tariff_id] = [f"{tariff_id}-{v.number}" for v in current + later]
    candidates = [
        AssignmentCandidate(
            assignment_id=a.pk,
            tariff_id=a.tariff_id,
            station_id=a.station_id,
            site_id=a.site_id,
            priority=a.priority,
        )
        for a in assignments
        if a.tariff_id in published
    ]
    answer = {}
    for station in stations:
        chosen = select_assignment(candidates, station_id=station.pk, site_id=station.site_id)
        answer[station.pk] = published[chosen.tariff_id] if chosen else []
    return answer
