"""Reactions to core domain events and answers to core policies (style guide, point 13)."""

from __future__ import annotations

from django.db import connection

from apps.charging.choices import AuthorizationStatus
from apps.charging.services import AuthorizationDecision
from apps.stations.models import Station

from . import queue
from .choices import DriverAccountKind
from .engine import Tariff, compute_cost, inputs_digest
from .models import DriverAccount, SessionCost
from .ocpi import cdr_from_cost, tariff_to_ocpi
from .selectors import (
    driver_balance,
    ocpi_tariff_ids,
    price_quote,
    session_timeline,
    tax_policy_for_site,
)
from .services.costs import session_final_cost
from .services.display import DISPLAY_VERSION


def on_session_ended(*, event: str, session_id: int, **_) -> None:
    """A session ended (this runs after the core's transaction committed, in its tenant):
    price it in the background."""
    if connection.schema_name != "public":
        queue.bill_session(session_id)


def on_session_updated(*, event: str, session_id: int, **_) -> None:
    """Something that changes a running session's price happened: send its station the new
    running total (OCPP 2.0.1 CostUpdated)."""
    if connection.schema_name != "public":
        queue.send_cost_update(session_id)


def session_running_cost(*, session_id: int, **_) -> dict | None:
    """What a session has cost so far, for roaming's OCPI session ``total_cost``: priced by
    the engine as its receipt will be; None when it cannot be priced (yet)."""
    from .services.sessions import BillingError, session_running_price

    try:
        price = session_running_price(session_id=session_id)
    except BillingError:
        return None
    if price is None:
        return None
    return {"excl_vat": price[0], "incl_vat": price[1]}


def on_reservation_no_show(
    *, event: str, key: str, token_uid: str, station_id: int, at, **_
) -> None:
    """A port held for a driver expired unused: the tariff's no-show fee, if it has one (in
    the waitlist's transaction, once per no-show)."""
    from .services.reservations import no_show_record

    no_show_record(key=key, token_uid=token_uid, station_id=station_id, at=at)


def session_idle_fees(*, session_ids, at=None, **_) -> dict:
    """The idle fee accrued by each session (the valet board)."""
    from .services.sessions import session_idle_fees as idle_fees

    return idle_fees(session_ids=session_ids, at=at)


def session_cost(*, session_id: int, **_) -> object | None:
    """A session has just ended: its receipt's total, for the station (2.0.1 totalCost)."""
    return session_final_cost(session_id=session_id)


def on_station_online(*, event: str, station_id: int, **_) -> None:
    """A station connected or booted: an OCPP 2.0.1 station gets the price on its display."""
    if connection.schema_name == "public":
        return
    if Station.objects.filter(pk=station_id, ocpp_version=DISPLAY_VERSION).exists():
        queue.enqueue_price_display(station_id)


def on_stations_online(*, entries: list, **_) -> None:
    """``on_station_online`` for a batch of connects and boots (apps/core/events.py,
    "Batches"): one query for all their stations."""
    if connection.schema_name == "public":
        return
    station_ids = {payload["station_id"] for _, payload in entries}
    showing = Station.objects.filter(pk__in=station_ids, ocpp_version=DISPLAY_VERSION)
    for station_id in sorted(showing.values_list("pk", flat=True)):
        queue.enqueue_price_display(station_id)


def price_info(*, station, evse_id: int | None = None, token_uid: str = "", **_) -> str | None:
    """What this driver would pay here now, in one line (for the station's display and API)."""
    quote = price_quote(station=station, token_uid=token_uid)
    if quote.choice.version is None:
        return None
    return quote.summary


def authorization(*, uid: str, **_) -> object | None:
    """Refuse to start charging on a driver account that cannot pay: inactive, a prepaid
    balance used up (beyond its credit limit), or an invoice account over its credit limit.
    Abstains (``None``) otherwise, so the other rules decide."""
    if not uid:
        return None
    account = DriverAccount.objects.filter(token_links__token__uid=uid).first()
    if account is None:
        return None
    if not account.is_active:
        return AuthorizationDecision(AuthorizationStatus.BLOCKED)
    balance = driver_balance(account)
    if account.kind == DriverAccountKind.PREPAID and balance <= -account.credit_limit:
        return AuthorizationDecision(AuthorizationStatus.BLOCKED)
    if (
        account.kind == DriverAccountKind.INVOICE
        and account.credit_limit
        and -balance >= account.credit_limit
    ):
        return AuthorizationDecision(AuthorizationStatus.BLOCKED)
    return None


def ocpi_cdr(
    *, session_id: int, country_code: str, party_id: str, cdr_token, cdr_location, **_
) -> dict | None:
    """The OCPI CDR of a priced session, for roaming: the engine's result recomputed from the
    inputs the receipt was priced from (checked by their digest), so the CDR's amounts are the
    receipt's.  ``None`` while the session is not priced, or if its inputs changed since."""
    cost = (
        SessionCost.objects.select_related("session__station__site", "tariff_version__tariff")
        .filter(session_id=session_id)
        .first()
    )
    if cost is None:
        return None
    session = cost.session
    version = cost.tariff_version
    tariff = version.parsed if version else Tariff(currency=cost.currency)
    site = session.station.site
    taxes = tax_policy_for_site(site.pk if site else None)
    timeline = session_timeline(session, timezone=cost.site_timezone)
    if inputs_digest(tariff, timeline, taxes) != cost.inputs_digest:
        return None
    result = compute_cost(tariff, timeline, taxes)
    tariffs, tariff_id = [], None
    if version is not None:
        tariff_id = f"{version.tariff_id}-{version.number}"
        tariffs = [
            tariff_to_ocpi(
                tariff,
                tariff_id=tariff_id,
                country_code=country_code,
                party_id=party_id,
                last_updated=version.created_at,
                taxes=taxes,
                start_date_time=version.effective_from,
            )
        ]
    return cdr_from_cost(
        result,
        cdr_id=cost.receipt_number,
        country_code=country_code,
        party_id=party_id,
        session_id=str(session_id),
        started_at=session.started_at,
        ended_at=session.ended_at,
        cdr_token=cdr_token,
        cdr_location=cdr_location,
        last_updated=cost.computed_at,
        auth_method="AUTH_REQUEST",
        tariff_id=tariff_id,
        tariffs=tariffs,
    )


# --- drivers (issue 20): the public finder's price and a driver's receipts ---------------------
def driver_price(*, station, **_) -> dict | None:
    """The price a driver without a card would pay at ``station`` now (the finder)."""
    from .selectors import price_quote

    quote = price_quote(station=station)
    if quote.choice.version is None:
        return None
    return {"summary": quote.summary, "currency": quote.currency, "components": quote.components}


def session_receipts(*, session_ids, **_) -> dict:
    """The receipts of these sessions (those priced), as a driver sees them."""
    from .models import SessionCost

    costs = SessionCost.objects.filter(session_id__in=list(session_ids))
    return {
        cost.session_id: {
            "receipt_number": cost.receipt_number,
            "total": str(cost.total),
            "tax_total": str(cost.tax_total),
            "total_excl_tax": str(cost.total_excl_tax),
            "currency": cost.currency,
            "energy_wh": cost.energy_wh,
            "tariff": cost.tariff_name,
            "computed_at": cost.computed_at.isoformat(),
        }
        for cost in costs
    }


def ocpi_tariffs(*, country_code: str, party_id: str, tariff_id: int | None = None, **_) -> list:
    """The OCPI 2.2.1 Tariff objects roaming publishes (``OCPI_TARIFFS`` policy): each version
    of an active tariff that is in force now or will be, as ``<tariff>-<number>`` (the id CDRs
    name), from its ``effective_from`` to the next version's.  Prices as the tariff API renders
    them (no site's taxes: they differ from site to site)."""
    from django.utils import timezone

    from .models import TariffVersion
    from .ocpi import tariff_to_ocpi

    versions = TariffVersion.objects.filter(tariff__is_active=True).order_by(
        "tariff_id", "effective_from"
    )
    if tariff_id is not None:
        versions = versions.filter(tariff_id=tariff_id)
    by_tariff: dict[int, list] = {}
    for version in versions:
        by_tariff.setdefault(version.tariff_id, []).append(version)
    now = timezone.now()
    published = []
    for chain in by_tariff.values():
        for version, following in zip(chain, [*chain[1:], None], strict=True):
            if following is not None and following.effective_from <= now:
                continue  # ended
            published.append(
                tariff_to_ocpi(
                    version.parsed,
                    tariff_id=f"{version.tariff_id}-{version.number}",
                    country_code=country_code,
                    party_id=party_id,
                    last_updated=max(version.created_at, following.created_at)
                    if following
                    else version.created_at,
                    start_date_time=version.effective_from,
                    end_date_time=following.effective_from if following else None,
                )
            )
    return published


def ocpi_connector_tariffs(*, stations: list, at=None, **_) -> dict[int, list[str]]:
    """roaming (``OCPI_CONNECTOR_TARIFFS``): station pk -> the OCPI tariff ids its connectors
    list (what a roaming driver pays there now, and the versions that follow)."""
    from django.utils import timezone

    return ocpi_tariff_ids(stations=list(stations), at=at or timezone.now())
