"""Tariffs (OCPI 2.2.1 tariffs module, CPO side: SENDER).

Billing owns the prices; roaming never reads its tables.  It asks the core's ``OCPI_TARIFFS``
policy for the OCPI Tariff objects (billing answers: one per tariff version in force now or
later, ``<tariff>-<number>``, the ids its CDRs name) to serve the paginated GET, and billing's
``tariff.changed`` event (a tariff created, a version added) makes it PUT that tariff's objects
to every partner with a tariffs RECEIVER endpoint, through the outbox, in the transaction of
the change.
"""

from __future__ import annotations

from typing import Any

from apps.core import policies

from . import protocol, selectors, services


def published(*, tariff_id: int | None = None) -> list[dict[str, Any]]:
    profile = services.profile_get()
    found = policies.ask(
        policies.OCPI_TARIFFS,
        country_code=profile.country_code,
        party_id=profile.party_id,
        tariff_id=tariff_id,
    )
    return sorted(found or [], key=lambda t: (t["last_updated"], t["id"]))


def in_period(tariffs: list[dict[str, Any]], date_from=None, date_to=None) -> list[dict]:
    """The GET's ``date_from`` (inclusive) / ``date_to`` (exclusive) on ``last_updated``."""

    def keep(tariff: dict[str, Any]) -> bool:
        updated = protocol.parse_timestamp(tariff["last_updated"])
        return (date_from is None or updated >= date_from) and (
            date_to is None or updated < date_to
        )

    return [tariff for tariff in tariffs if keep(tariff)]


def on_tariff_changed(*, event, tariff_id: int, **_) -> None:
    partners = selectors.connected_partners("tariffs")
    if not partners:
        return
    for tariff in published(tariff_id=tariff_id):
        services.push_enqueue(
            partners=partners,
            module="tariffs",
            method="PUT",
            path=f"/{tariff['country_code']}/{tariff['party_id']}/{tariff['id']}",
            body=tariff,
        )
