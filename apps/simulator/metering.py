"""Metering: energy integrated over time under the limits of hardware, supply and charging
profiles, and the meter values the station reports."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from .core import COMMUNICATION_ERRORS, StationCore, tx_key
from .physics import MIN_PILOT_CURRENT_A, share
from .state import Evse, Reading

logger = logging.getLogger("chargegrid.simulator")
# Energy is integrated in steps no longer than this, so the taper follows the state of charge.
MAX_STEP = timedelta(seconds=10)


class MeteringMixin(StationCore):
    # ---- physics --------------------------------------------------------------------------

    def _settle(self) -> None:
        """Integrate energy from the last settlement to now."""
        now = self.clock.now()
        moment = self._settled_at
        while moment < now:
            end = min(now, moment + MAX_STEP)
            changes = self.profiles.boundaries(moment, end, self._tx_starts())
            if changes:
                end = changes[0]
            self._allocate(moment)
            hours = (end - moment).total_seconds() / 3600
            for evse in self.evses.values():
                if evse.draw_a > 0:
                    energy = self.config.voltage * evse.draw_a * evse.phases_in_use * hours
                    evse.energy_wh += energy
                    if evse.vehicle is not None:
                        evse.vehicle.store(energy)
            moment = end
        self._settled_at = max(self._settled_at, now)
        self._allocate(now)

    def _allocate(self, at: datetime) -> None:
        """Set what each pilot offers and each vehicle draws at ``at``."""
        demands: dict[int, float] = {}
        for evse in self.evses.values():
            cap = self._evse_cap_a(evse, at, self._tx_start(evse))
            can_charge = evse.transaction is not None and evse.vehicle is not None
            evse.offered_a = cap if can_charge and cap >= MIN_PILOT_CURRENT_A else 0.0
            acceptance = evse.vehicle.acceptance_a() if evse.vehicle is not None else 0.0
            demands[evse.id] = min(evse.offered_a, acceptance)
        shares = share(self._station_cap_a(at), demands)
        for evse in self.evses.values():
            draw = shares[evse.id]
            if draw + 1e-9 < demands[evse.id]:
                evse.offered_a = draw  # the station lowered this pilot to share its supply
            evse.draw_a = draw
            evse.phases_in_use = (
                min(evse.phases, evse.vehicle.phases) if draw > 0 and evse.vehicle else 0
            )

    def _evse_cap_a(self, evse: Evse, at: datetime, tx_start: datetime | None) -> float:
        tx = evse.transaction
        if evse.fault or (tx is not None and tx.authorization_status not in (None, "Accepted")):
            return 0.0
        limits = [evse.max_current_a]
        station = self._station_cap_a(at)
        if station is not None:
            limits.append(station)
        tx_limit = self.profiles.transaction_limit_a(
            evse.id,
            at,
            transaction_id=tx_key(tx) if tx is not None else None,
            tx_start=tx_start,
            voltage=self.config.voltage,
            phases=evse.phases,
        )
        if tx_limit is not None:
            limits.append(tx_limit)
        return max(0.0, min(limits))

    def _station_cap_a(self, at: datetime) -> float | None:
        limits = [
            limit
            for limit in (
                self.profiles.station_limit_a(at, self.config.voltage, self.config.phases),
                self.config.station_max_current_a,
            )
            if limit is not None
        ]
        return min(limits) if limits else None

    def _tx_start(self, evse: Evse) -> datetime | None:
        return evse.transaction.started_at if evse.transaction is not None else None

    def _tx_starts(self) -> dict[int, datetime | None]:
        return {evse.id: self._tx_start(evse) for evse in self.evses.values()}

    def _reading(self, evse: Evse) -> Reading:
        draw, phases = evse.draw_a, evse.phases_in_use
        return Reading(
            at=self.clock.now(),
            energy_wh=evse.register_wh,
            power_w=self.config.voltage * draw * phases,
            currents_a=tuple(draw if n < phases else 0.0 for n in range(3)),  # type: ignore[arg-type]
            voltage_v=self.config.voltage,
            phases=evse.phases,
            soc=evse.vehicle.soc if evse.vehicle is not None else None,
        )

    async def send_meter_values(
        self, evse_id: int = 1, *, context: str = "Sample.Periodic"
    ) -> None:
        """Meter values now: with the transaction (queued while offline) or, without one,
        only when online."""
        evse = self._evse(evse_id)
        self._settle()
        reading = self._reading(evse)
        tx = evse.transaction
        if tx is not None and context == "Sample.Periodic":
            await self._enqueue(
                self._proto.transaction_updated(tx, evse, reading, "MeterValuePeriodic")
            )
        else:
            await self._send(self._proto.meter_values(evse, reading, context))
        await self._refresh_status(evse)

    async def _meter_loop(self) -> None:
        while True:
            interval = self.settings.get_int("MeterValueSampleInterval")
            await self.clock.sleep(interval or 60)
            try:
                for evse in self.evses.values():
                    if interval and evse.transaction is not None:
                        await self.send_meter_values(evse.id)
                    else:
                        await self._refresh_status(evse)
            except COMMUNICATION_ERRORS as error:
                logger.info("%s: meter values: %s", self.identity, error)
            except Exception:  # a station that runs for days must keep metering
                logger.exception("%s: meter loop", self.identity)
