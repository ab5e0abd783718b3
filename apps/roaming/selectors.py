"""Reads of the roaming feature: our network as OCPI Locations, partners by token.

OCPI ids: a site is a Location ``LOC<site pk>``; an EVSE's ``uid`` is ``<station pk>-<evse
id>`` (unique in the tenant, stable while the station exists) and its ``evse_id`` the eMI3 form
``CC*PID*E<station pk>*<evse id>``; a connector keeps its OCPP connector id.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pycountry
from django.db.models import DateTimeField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest

from apps.core import policies
from apps.stations.choices import ConnectorStatus, ConnectorType
from apps.stations.models import Connector, Evse, Site, Station

from . import protocol, shapes211
from .choices import PartnerStatus
from .models import Partner

EVSE_STATUS = {
    ConnectorStatus.AVAILABLE: "AVAILABLE",
    ConnectorStatus.PREPARING: "CHARGING",
    ConnectorStatus.CHARGING: "CHARGING",
    ConnectorStatus.SUSPENDED_EV: "CHARGING",
    ConnectorStatus.SUSPENDED_EVSE: "CHARGING",
    ConnectorStatus.FINISHING: "CHARGING",
    ConnectorStatus.OCCUPIED: "CHARGING",
    ConnectorStatus.RESERVED: "RESERVED",
    ConnectorStatus.UNAVAILABLE: "INOPERATIVE",
    ConnectorStatus.FAULTED: "OUTOFORDER",
    ConnectorStatus.UNKNOWN: "UNKNOWN",
}
# standard, format, DC?
CONNECTOR_STANDARD = {
    ConnectorType.TYPE1: ("IEC_62196_T1", "CABLE", False),
    ConnectorType.TYPE2: ("IEC_62196_T2", "SOCKET", False),
    ConnectorType.CCS1: ("IEC_62196_T1_COMBO", "CABLE", True),
    ConnectorType.CCS2: ("IEC_62196_T2_COMBO", "CABLE", True),
    ConnectorType.CHADEMO: ("CHADEMO", "CABLE", True),
    ConnectorType.NACS: ("TESLA_S", "CABLE", True),  # 2.2.1 has no J3400 value yet
    ConnectorType.OTHER: ("IEC_62196_T2", "SOCKET", False),
}
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def partner_by_token(token: str | None) -> Partner | None:
    if not token:
        return None
    return (
        Partner.objects.filter(incoming_token=token)
        .exclude(status=PartnerStatus.UNREGISTERED)
        .first()
    )


def connected_partners(module: str) -> list[Partner]:
    """Partners that receive ``module`` pushes (they listed a RECEIVER endpoint for it)."""
    return [
        partner
        for partner in Partner.objects.filter(status=PartnerStatus.CONNECTED)
        if partner.endpoint(module) is not None
    ]


def connected_partners_offering(module: str) -> list[Partner]:
    """Partners that serve ``module`` to us (a SENDER endpoint: their tokens to pull or ask)."""
    return [
        partner
        for partner in Partner.objects.filter(status=PartnerStatus.CONNECTED)
        if partner.endpoint(module, "SENDER") is not None
    ]


def evse_uid(station_id: int, evse_id: int) -> str:
    return f"{station_id}-{evse_id}"


def location_id(site_id: int) -> str:
    return f"LOC{site_id}"


def site_pk(location: str) -> int | None:
    return int(location[3:]) if location.startswith("LOC") and location[3:].isdigit() else None


def alpha3(country: str) -> str:
    found = pycountry.countries.get(alpha_2=(country or "").upper())
    return found.alpha_3 if found else (country or "").upper()


def locations_queryset() -> QuerySet[Site]:
    """Sites with their stations, EVSEs and connectors, and ``last_updated`` (the site's
    creation or its latest EVSE status change) to filter on."""
    evses = Evse.objects.order_by("evse_id").prefetch_related(
        Prefetch("connectors", queryset=Connector.objects.order_by("connector_id"))
    )
    stations = Station.objects.order_by("pk").prefetch_related(Prefetch("evses", queryset=evses))
    # A correlated subquery, not a join + GROUP BY: with a page's LIMIT, PostgreSQL computes it
    # for that page's sites only (the aggregate over the whole network cost ~0.4 s a page).
    latest_status = (
        Evse.objects.filter(station__site=OuterRef("pk"), status_changed_at__isnull=False)
        .order_by("-status_changed_at")
        .values("status_changed_at")[:1]
    )
    return (
        Site.objects.annotate(
            last_updated=Greatest(
                "created_at",
                Coalesce(
                    Subquery(latest_status, output_field=DateTimeField()),
                    Value(EPOCH, output_field=DateTimeField()),
                ),
            )
        )
        .order_by("pk")
        .prefetch_related(Prefetch("stations", queryset=stations))
    )


def _evse_last_updated(evse: Evse, station: Station) -> dt.datetime:
    return max(filter(None, [evse.status_changed_at, station.created_at]))


def connector_data(
    evse: Evse, connector: Connector, station: Station, tariff_ids: list[str] | None = None
) -> dict[str, Any]:
    standard, shape, dc = CONNECTOR_STANDARD.get(
        connector.connector_type, CONNECTOR_STANDARD[ConnectorType.OTHER]
    )
    if dc:
        power_type, voltage = "DC", 500
    else:
        power_type, voltage = ("AC_3_PHASE", 400) if evse.phases == 3 else ("AC_1_PHASE", 230)
    return {
        "id": str(connector.connector_id),
        "standard": standard,
        "format": shape,
        "power_type": power_type,
        "max_voltage": voltage,
        "max_amperage": int(evse.max_current_a),
        "max_electric_power": connector.max_power_w or evse.max_power_w,
        "last_updated": protocol.timestamp(_evse_last_updated(evse, station)),
    } | ({"tariff_ids": list(tariff_ids)} if tariff_ids else {})


def connector_tariffs(stations: list[Station]) -> dict[int, list[str]]:
    """station pk -> the tariff ids its connectors list (billing answers the core's
    ``OCPI_CONNECTOR_TARIFFS``; nobody answering: none)."""
    if not stations:
        return {}
    return policies.ask(policies.OCPI_CONNECTOR_TARIFFS, stations=stations) or {}


def evse_status_data(evse: Evse, station: Station) -> dict[str, Any]:
    """What a status PATCH says of an EVSE (no query: its connectors are not needed)."""
    status = EVSE_STATUS.get(evse.status, "UNKNOWN") if station.is_online else "UNKNOWN"
    return {
        "status": status,
        "last_updated": protocol.timestamp(_evse_last_updated(evse, station)),
    }


def evse_data(
    evse: Evse, station: Station, *, party: tuple[str, str], tariff_ids: list[str] | None = None
) -> dict[str, Any]:
    status = EVSE_STATUS.get(evse.status, "UNKNOWN") if station.is_online else "UNKNOWN"
    connectors = list(evse.connectors.all()) or [Connector(evse=evse, connector_id=1)]
    return {
        "uid": evse_uid(station.pk, evse.evse_id),
        "evse_id": f"{party[0]}*{party[1]}*E{station.pk}*{evse.evse_id}",
        "status": status,
        "capabilities": ["RFID_READER"],
        "connectors": [connector_data(evse, c, station, tariff_ids) for c in connectors],
        "last_updated": protocol.timestamp(_evse_last_updated(evse, station)),
    }


def location_data(
    site: Site, *, party: tuple[str, str], tariffs: dict[int, list[str]] | None = None
) -> dict[str, Any]:
    """``tariffs``: :func:`connector_tariffs` of the site's stations, when a page of sites
    asked for all of theirs at once (else asked here)."""
    stations = list(site.stations.all())
    if tariffs is None:
        tariffs = connector_tariffs(stations)
    data: dict[str, Any] = {
        "country_code": party[0],
        "party_id": party[1],
        "id": location_id(site.pk),
        "publish": True,
        "name": site.name,
        "address": site.address or site.name,
        "city": site.city or "-",
        "country": alpha3(site.country),
        "time_zone": site.timezone,
        "evses": [
            evse_data(evse, station, party=party, tariff_ids=tariffs.get(station.pk))
            for station in stations
            for evse in station.evses.all()
        ],
        "opening_times": {"twentyfourseven": True},
        "last_updated": protocol.timestamp(getattr(site, "last_updated", None) or site.created_at),
    }
    if site.postal_code:
        data["postal_code"] = site.postal_code
    if site.region:
        data["state"] = site.region
    if site.latitude is not None and site.longitude is not None:
        data["coordinates"] = {
            "latitude": f"{Decimal(site.latitude):.6f}",
            "longitude": f"{Decimal(site.longitude):.6f}",
        }
    return data


def location_211(
    location: str, evse: str | None = None, connector: str | None = None, *, party
) -> dict[str, Any]:
    """The 2.1.1 Location a 2.1.1 session carries: the site with only that EVSE and
    connector (a location gone since: its id and what 2.1.1 requires, empty)."""
    pk = site_pk(location)
    site = locations_queryset().filter(pk=pk).first() if pk else None
    if site is None:
        return {"id": location, "type": "UNKNOWN", "address": "", "city": "", "country": ""}
    data = location_data(site, party=party)
    if evse:
        data["evses"] = [e for e in data["evses"] if e["uid"] == evse]
        for entry in data["evses"]:
            if connector:
                entry["connectors"] = [c for c in entry["connectors"] if c["id"] == connector]
    return shapes211.location(data)
