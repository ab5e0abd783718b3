"""OCPI 2.1.1 shapes, for partners that only speak 2.1.1 (the version negotiation picked it).

Everything is built in 2.2.1 (``selectors``, ``sessions``, billing's renderings) and turned
into 2.1.1 here, at the edge: what the GETs under ``/ocpi/2.1.1/`` answer and what a push to a
2.1.1 partner carries (converted when it is sent, from the 2.2.1 body stored in the outbox).

The differences handled (OCPI 2.1.1 §8–§11): no ``country_code``/``party_id``/``publish`` on
objects; a Location has a ``type`` and a ``postal_code``; a Connector has ``voltage`` and
``amperage`` (no ``max_electric_power``, ``tariff_id`` not ``tariff_ids``); a Session and a
CDR carry ``auth_id`` and the whole ``location`` (one EVSE, one connector) instead of
``cdr_token`` and ids, dates are ``start_datetime``/``end_datetime`` (Session) and
``stop_date_time`` (CDR), and costs are plain numbers (incl. VAT); a Tariff has no type, party
or price caps.
"""

from __future__ import annotations

from typing import Any

DROPPED = ("country_code", "party_id", "publish")


def connector(data: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in data.items() if k not in ("max_voltage", "max_amperage")}
    out.pop("max_electric_power", None)
    out["voltage"] = data.get("max_voltage", 230)
    out["amperage"] = data.get("max_amperage", 16)
    tariff_ids = out.pop("tariff_ids", None)
    if tariff_ids:
        out["tariff_id"] = tariff_ids[0]
    return out


def evse(data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    if "connectors" in out:
        out["connectors"] = [connector(c) for c in out["connectors"]]
    return out


def location(data: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in data.items() if k not in DROPPED}
    out["type"] = "UNKNOWN"  # 2.2.1 has no location type; 2.1.1 requires one
    out.setdefault("postal_code", "")
    if "evses" in out:
        out["evses"] = [evse(e) for e in out["evses"]]
    return out


def _number(price: Any) -> Any:
    """A 2.2.1 Price ({excl_vat, incl_vat}) as 2.1.1's plain decimal (what the eMSP pays)."""
    if isinstance(price, dict):
        return price.get("incl_vat", price.get("excl_vat"))
    return price


def tariff(data: dict[str, Any]) -> dict[str, Any]:
    keep = ("id", "currency", "tariff_alt_text", "tariff_alt_url", "elements", "energy_mix")
    out = {k: data[k] for k in keep if k in data}
    out["last_updated"] = data["last_updated"]
    return out


def _location_of_cdr(cdr_location: dict[str, Any], last_updated: str) -> dict[str, Any]:
    """A 2.2.1 CdrLocation as the 2.1.1 Location of a CDR (its one EVSE and connector)."""
    out: dict[str, Any] = {
        "id": cdr_location.get("id", ""),
        "type": "UNKNOWN",
        "name": cdr_location.get("name", ""),
        "address": cdr_location.get("address", ""),
        "city": cdr_location.get("city", ""),
        "postal_code": cdr_location.get("postal_code", ""),
        "country": cdr_location.get("country", ""),
        "evses": [
            {
                "uid": cdr_location.get("evse_uid", ""),
                "evse_id": cdr_location.get("evse_id", ""),
                "status": "UNKNOWN",
                "connectors": [
                    {
                        "id": cdr_location.get("connector_id", "1"),
                        "standard": cdr_location.get("connector_standard", ""),
                        "format": cdr_location.get("connector_format", ""),
                        "power_type": cdr_location.get("connector_power_type", ""),
                        "voltage": 400,
                        "amperage": 32,
                        "last_updated": last_updated,
                    }
                ],
                "last_updated": last_updated,
            }
        ],
        "last_updated": last_updated,
    }
    if "coordinates" in cdr_location:
        out["coordinates"] = cdr_location["coordinates"]
    return out


def cdr(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": data["id"],
        "start_date_time": data["start_date_time"],
        "stop_date_time": data["end_date_time"],
        "auth_id": (data.get("cdr_token") or {}).get("contract_id", ""),
        "auth_method": data.get("auth_method", "AUTH_REQUEST"),
        "location": _location_of_cdr(data.get("cdr_location") or {}, data["last_updated"]),
        "currency": data["currency"],
        "charging_periods": [
            {k: v for k, v in period.items() if k != "tariff_id"}
            for period in data.get("charging_periods", [])
        ],
        "total_cost": _number(data.get("total_cost")),
        "total_energy": data.get("total_energy", 0),
        "total_time": data.get("total_time", 0),
        "last_updated": data["last_updated"],
    }
    if data.get("tariffs"):
        out["tariffs"] = [tariff(t) for t in data["tariffs"]]
    if data.get("total_parking_time"):
        out["total_parking_time"] = data["total_parking_time"]
    return out


def session(data: dict[str, Any], location_of=None) -> dict[str, Any]:
    """A 2.2.1 Session (whole, or a PATCH's fields) in 2.1.1.  ``location_of(location_id,
    evse_uid, connector_id)`` gives the 2.1.1 Location a whole session carries."""
    renamed = {"start_date_time": "start_datetime", "end_date_time": "end_datetime"}
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in DROPPED or key in ("cdr_token", "location_id", "evse_uid", "connector_id"):
            continue
        if key == "total_cost":
            value = _number(value)
        out[renamed.get(key, key)] = value
    if "cdr_token" in data:
        out["auth_id"] = data["cdr_token"].get("contract_id", "")
    if "location_id" in data and location_of is not None:
        out["location"] = location_of(
            data["location_id"], data.get("evse_uid"), data.get("connector_id")
        )
    return out


def push_body(module: str, body: Any, location_of=None) -> Any:
    """A push's stored 2.2.1 body as a 2.1.1 partner gets it."""
    if not isinstance(body, dict):
        return body
    if module == "sessions":
        return session(body, location_of)
    if module == "cdrs":
        return cdr(body) if "cdr_location" in body else body
    if module == "tariffs":
        return tariff(body)
    if module == "locations":
        if "evses" in body or "address" in body:
            return location(body)
        if "connectors" in body:
            return evse(body)
    return body
