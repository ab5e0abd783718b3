"""OCPP charging-profile payloads for 1.6 and 2.0.1, and reading a station's smart-charging
abilities.  Pure functions; ``services`` sends what they build through the core's command
service.

What we install (OCPP 1.6 §3.13, §5.16, §7 and 2.0.1 part K; without a maximum and a
default profile, a station that goes offline charges without any limit):

- a **station maximum** (1.6 ChargePointMaxProfile / 2.0.1 ChargingStationMaxProfile) on
  connector / EVSE 0: the power-selection limit, so that a station never draws more than its
  breaker allows, even offline;
- a **safe default** (TxDefaultProfile) on connector / EVSE 0: what a new session may draw
  before the next allocation (0 A by default);
- a **TxProfile** on each running transaction with its allocated limit; a scheduled session's
  profile holds 0 A until its start and its reserved minimum from then on.

Profile ids are fixed per purpose and EVSE so that a new profile replaces the previous one.
Our TxProfile uses the station's highest stack level, so that it wins over other TxProfiles;
the maximum and the default use stack level 0.  Limits are amps per phase, or watts when the
station only takes watts, rounded down to 0.1 (1.6's schemas require multiples of 0.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .choices import RateUnit

STATION_MAX_ID = 1
TX_DEFAULT_ID = 2
TX_ID_BASE = 100

STATION_MAX = "ChargingStationMaxProfile"
TX_DEFAULT = "TxDefaultProfile"
TX = "TxProfile"
PURPOSE_NAMES = {
    "1.6": {STATION_MAX: "ChargePointMaxProfile", TX_DEFAULT: TX_DEFAULT, TX: TX},
    "2.0.1": {STATION_MAX: STATION_MAX, TX_DEFAULT: TX_DEFAULT, TX: TX},
}


def tx_profile_id(evse_id: int) -> int:
    return TX_ID_BASE + evse_id


def ocpp_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def limit_value(limit_da: int, unit: str, watts_per_amp: int) -> float:
    """A limit in the unit the station takes: amps per phase, or total watts.  Both are exact
    multiples of 0.1 (deciamps x volts / 10), sent as the float JSON writes."""
    if unit == RateUnit.WATTS:
        return float(Decimal(limit_da * watts_per_amp) / 10)
    return float(Decimal(limit_da) / 10)


@dataclass(frozen=True)
class Period:
    start_s: int  # seconds after the schedule's start
    limit_da: int


def fit_periods(periods: list[Period], max_periods: int | None) -> list[Period]:
    """``periods`` in at most ``max_periods`` periods (``None``: as they are), never above the
    original limit at any moment: two neighbours merge into one period, from the first one's
    start, at the lower of their limits.  The pair whose limits are closest merges first (the
    least current given up); on a tie the later pair (the nearer future stays exact)."""
    fitted = list(periods)
    if max_periods is None:
        return fitted
    while len(fitted) > max(max_periods, 1):
        pair = min(
            range(len(fitted) - 1),
            key=lambda i: (abs(fitted[i].limit_da - fitted[i + 1].limit_da), -i),
        )
        first, second = fitted[pair], fitted[pair + 1]
        fitted[pair : pair + 2] = [Period(first.start_s, min(first.limit_da, second.limit_da))]
    return fitted


def set_charging_profile(
    *,
    version: str,
    evse_id: int,
    purpose: str,
    profile_id: int,
    stack_level: int,
    unit: str,
    watts_per_amp: int,
    phases: int,
    periods: list[Period],
    start: datetime,
    transaction_id: str | None = None,
    sales_tariff: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The SetChargingProfile payload of ``version`` (``evse_id`` 0: the whole station);
    ``sales_tariff``: the 2.0.1 schedule's ISO 15118-2 salesTariff (``ev_needs.sales_tariff``)."""
    if version not in PURPOSE_NAMES:
        raise ValueError(f"Unknown OCPP version {version!r}")
    schedule_periods = [
        {
            "startPeriod": period.start_s,
            "limit": limit_value(period.limit_da, unit, watts_per_amp),
            "numberPhases": phases,
        }
        for period in periods
    ]
    purpose_name = PURPOSE_NAMES[version][purpose]
    if version == "1.6":
        profile: dict[str, Any] = {
            "chargingProfileId": profile_id,
            "stackLevel": stack_level,
            "chargingProfilePurpose": purpose_name,
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "startSchedule": ocpp_time(start),
                "chargingRateUnit": unit,
                "chargingSchedulePeriod": schedule_periods,
            },
        }
        if purpose == TX and transaction_id is not None and transaction_id.isdigit():
            profile["transactionId"] = int(transaction_id)
        return {"connectorId": evse_id, "csChargingProfiles": profile}
    profile = {
        "id": profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": purpose_name,
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 1,
                "startSchedule": ocpp_time(start),
                "chargingRateUnit": unit,
                "chargingSchedulePeriod": schedule_periods,
            }
        ],
    }
    if sales_tariff is not None:
        profile["chargingSchedule"][0]["salesTariff"] = sales_tariff
    if purpose == TX:
        if not transaction_id:
            raise ValueError("A 2.0.1 TxProfile needs the transaction id")
        profile["transactionId"] = transaction_id
    return {"evseId": evse_id, "chargingProfile": profile}


def accepted(response: dict[str, Any]) -> bool:
    return response.get("status") == "Accepted"


# --- Abilities ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Capabilities:
    max_stack_level: int | None
    rate_units: tuple[str, ...]  # "A", "W"
    max_periods: int | None


CONFIGURATION_KEYS_16 = [
    "ChargeProfileMaxStackLevel",
    "ChargingScheduleAllowedChargingRateUnit",
    "ChargingScheduleMaxPeriods",
]
VARIABLES_201 = ["ProfileStackLevel", "RateUnit", "PeriodsPerSchedule"]


def capabilities_request(version: str) -> tuple[str, dict[str, Any]]:
    """(action, payload) that asks a station for its smart-charging abilities."""
    if version == "1.6":
        return "GetConfiguration", {"key": CONFIGURATION_KEYS_16}
    return "GetVariables", {
        "getVariableData": [
            {"component": {"name": "SmartChargingCtrlr"}, "variable": {"name": name}}
            for name in VARIABLES_201
        ]
    }


def _units(text: str) -> tuple[str, ...]:
    units = []
    for item in text.replace(";", ",").split(","):
        item = item.strip().lower()
        if item in ("current", "a"):
            units.append(RateUnit.AMPS.value)
        elif item in ("power", "w"):
            units.append(RateUnit.WATTS.value)
    return tuple(units)


def _integer(text: str | None) -> int | None:
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return None


def parse_capabilities(version: str, response: dict[str, Any]) -> Capabilities:
    values: dict[str, str] = {}
    if version == "1.6":
        for item in response.get("configurationKey") or []:
            if "value" in item:
                values[item["key"]] = item["value"]
        stack = values.get("ChargeProfileMaxStackLevel")
        units = values.get("ChargingScheduleAllowedChargingRateUnit", "")
        periods = values.get("ChargingScheduleMaxPeriods")
    else:
        for item in response.get("getVariableResult") or []:
            if item.get("attributeStatus") == "Accepted" and "attributeValue" in item:
                values[item["variable"]["name"]] = item["attributeValue"]
        stack = values.get("ProfileStackLevel")
        units = values.get("RateUnit", "")
        periods = values.get("PeriodsPerSchedule")
    return Capabilities(_integer(stack), _units(units), _integer(periods))


def preferred_unit(capabilities: Capabilities) -> str:
    """Amps when the station takes them (the allocation is in amps), else watts."""
    if RateUnit.AMPS.value in capabilities.rate_units or not capabilities.rate_units:
        return RateUnit.AMPS.value
    return RateUnit.WATTS.value
