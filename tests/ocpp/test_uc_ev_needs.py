"""Issue 12, item 2: smart charging from the vehicle's needs (OCPP 2.0.1 K15-K17).

K15: the station reports the EV's needs (NotifyEVChargingNeeds: energy, departure time, AC
limits); the CSMS answers (Rejected without a transaction there; Processing: a schedule is
being computed) and sends SetChargingProfile with a TxProfile for that transaction, computed
by power management within the site's limits, a car that must leave soon taking priority.
K15.FR.12-13: the EV's chosen schedule (NotifyEVChargingSchedule) above that profile is
Rejected and the profile is sent again (renegotiation); one within it is Accepted.
K17: new needs from the EV lead to a new TxProfile, with no more periods (and sales-tariff
entries: the site's time-of-use energy rates) than its maxScheduleTuples."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from ocpp.v201 import call as call201

from apps.power import services as power
from apps.power.choices import NodeKind
from apps.stations.services import site_create, station_register
from tests.live import unique_identity, wait_until
from tests.ocpp.clients import Connected, in_db


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def amps(profile: dict) -> float:
    schedule = profile["charging_schedule"][0]
    limit = schedule["charging_schedule_period"][0]["limit"]
    return limit if schedule["charging_rate_unit"] == "A" else limit / (230 * 3)


def tx_profiles(cp, transaction_id: str) -> list[dict]:
    return [
        p["profile"]
        for action, p in cp.received
        if action == "SetChargingProfile"
        and p["profile"].get("transaction_id") == transaction_id
        and p["profile"]["charging_profile_purpose"] == "TxProfile"
    ]


def needs(now: dt.datetime, *, minutes: int, max_a: int) -> dict:
    return {
        "requested_energy_transfer": "AC_three_phase",
        "departure_time": iso(now + dt.timedelta(minutes=minutes)),
        "ac_charging_parameters": {
            "energy_amount": 20_000,
            "ev_min_current": 6,
            "ev_max_current": max_a,
            "ev_max_voltage": 400,
        },
    }


async def test_201_ev_needs_lead_to_a_tx_profile_within_the_site_limit(server, live_alpha):
    identity = unique_identity("EV")
    password = "pw-" + identity.lower() + "-0123456789"

    def setup():
        site = site_create(name=f"EV {identity}", timezone="UTC")
        supply = power.power_node_create(
            site=site,
            name="Supply",
            kind=NodeKind.SUPPLY,
            rating_a=Decimal("32"),
            continuous_factor=Decimal("1.00"),
        )
        station = station_register(
            identity=identity, password=password, site=site, evse_count=2, max_current_a=32
        )
        power.station_power_set(station=station, node=supply)
        for start, end, price in ((7, 22, "0.20"), (22, 7, "0.08")):  # time-of-use energy
            power.energy_rate_create(
                site=site,
                start_time=dt.time(start),
                end_time=dt.time(end),
                price_per_kwh=Decimal(price),
            )
        return station

    await in_db(live_alpha, setup)
    now = timezone.now()
    async with Connected(server.ws, identity, password, "2.0.1") as cp:
        await cp.call(
            call201.BootNotification(
                charging_station={"vendor_name": "ACME", "model": "EV"}, reason="PowerUp"
            ),
            suppress=False,
        )
        # no transaction on EVSE 1 yet: the CSMS cannot offer a schedule
        answer = await cp.call(
            call201.NotifyEVChargingNeeds(
                charging_needs=needs(now, minutes=60, max_a=32), evse_id=1
            ),
            suppress=False,
        )
        assert answer.status == "Rejected"
        for evse in (1, 2):
            await cp.call(
                call201.TransactionEvent(
                    event_type="Started",
                    timestamp=iso(now),
                    trigger_reason="CablePluggedIn",
                    seq_no=0,
                    transaction_info={
                        "transaction_id": f"{identity}-{evse}",
                        "charging_state": "Charging",
                    },
                    evse={"id": evse, "connector_id": 1},
                ),
                suppress=False,
            )
        # K15: EVSE 2's car needs 20 kWh within the hour (90 % of its 22 kW): it goes first
        answer = await cp.call(
            call201.NotifyEVChargingNeeds(
                charging_needs=needs(now, minutes=60, max_a=32), evse_id=2
            ),
            suppress=False,
        )
        assert answer.status == "Processing"
        # both shares go out in one pass, in parallel: either may reach the station first
        await wait_until(
            lambda: tx_profiles(cp, f"{identity}-2") and tx_profiles(cp, f"{identity}-1"),
            timeout=20,
        )
        urgent = tx_profiles(cp, f"{identity}-2")
        other = tx_profiles(cp, f"{identity}-1")
        assert amps(urgent[-1]) > amps(other[-1]) >= 6
        assert amps(urgent[-1]) + amps(other[-1]) <= 32  # within the site's limit

        # K15.FR.12-13: the EV chose 32 A, above its profile: Rejected, and the CSMS
        # renegotiates: the TxProfile of that transaction is sent again, within the limits
        sent_before = len(tx_profiles(cp, f"{identity}-2"))
        answer = await cp.call(
            call201.NotifyEVChargingSchedule(
                time_base=iso(now),
                evse_id=2,
                charging_schedule={
                    "id": 1,
                    "charging_rate_unit": "A",
                    "charging_schedule_period": [{"start_period": 0, "limit": 32}],
                },
            ),
            suppress=False,
        )
        assert answer.status == "Rejected"
        again = await wait_until(lambda: tx_profiles(cp, f"{identity}-2")[sent_before:], timeout=20)
        renegotiated = again[-1]
        assert renegotiated["transaction_id"] == f"{identity}-2"
        assert renegotiated["charging_profile_purpose"] == "TxProfile"
        assert renegotiated["id"] == urgent[-1]["id"]  # it replaces the first one
        assert 6 <= amps(renegotiated) < 32, "the EV's 32 A is above what it is given"
        assert renegotiated["charging_schedule"][0]["sales_tariff"]["sales_tariff_entry"]
        assert amps(renegotiated) + amps(tx_profiles(cp, f"{identity}-1")[-1]) <= 32

        # K15.FR.11: the schedule of the profile it was sent is Accepted (as OCTT's station
        # does: it returns the profile's own schedule)
        answer = await cp.call(
            call201.NotifyEVChargingSchedule(
                time_base=iso(now),
                evse_id=2,
                charging_schedule=renegotiated["charging_schedule"][0],
            ),
            suppress=False,
        )
        assert answer.status == "Accepted"

        # K17 (renegotiation initiated by the EV): new needs, with the most periods its
        # ISO 15118 stack takes; a TxProfile follows even though its share did not move,
        # with no more periods than that
        sent_before = len(tx_profiles(cp, f"{identity}-2"))
        answer = await cp.call(
            call201.NotifyEVChargingNeeds(
                charging_needs=needs(now, minutes=60, max_a=32),
                evse_id=2,
                max_schedule_tuples=1,
            ),
            suppress=False,
        )
        assert answer.status == "Processing"
        again = await wait_until(lambda: tx_profiles(cp, f"{identity}-2")[sent_before:], timeout=20)
        schedule = again[-1]["charging_schedule"][0]
        assert len(schedule["charging_schedule_period"]) == 1
        # the ISO 15118-2 sales tariff (the site's energy rates) fits in one entry too
        assert len(schedule["sales_tariff"]["sales_tariff_entry"]) == 1
        assert amps(again[-1]) == amps(renegotiated)
        answer = await cp.call(
            call201.NotifyEVChargingSchedule(
                time_base=iso(now),
                evse_id=2,
                charging_schedule={
                    "id": 2,
                    "charging_rate_unit": "A",
                    "charging_schedule_period": [{"start_period": 0, "limit": 6}],
                },
            ),
            suppress=False,
        )
        assert answer.status == "Accepted"
