"""Transactions: drivers plugging in and charging, authorisation, remote start and stop, the
offline queue of transaction messages, and connector statuses."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from ocpp.exceptions import OCPPError

from .core import StationCore
from .physics import Vehicle
from .profiles import ChargingProfile
from .protocol import QueuedMessage
from .state import Evse, PendingStart, SessionRefused, SimulatorError, StationOffline, Transaction

logger = logging.getLogger("chargegrid.simulator")
# Offline, meter samples are dropped first once the queue is this long.
MAX_QUEUE = 10_000


class TransactionsMixin(StationCore):
    # ---- driver actions -------------------------------------------------------------------

    async def plug_in(self, evse_id: int = 1, vehicle: Vehicle | None = None) -> None:
        evse = self._evse(evse_id)
        if evse.vehicle is not None:
            raise SimulatorError(f"EVSE {evse_id} already has a vehicle")
        self._settle()
        evse.vehicle = vehicle or Vehicle()
        evse.finishing = False
        pending = evse.pending_start
        self._clear_pending_start(evse)
        if pending is not None:
            await self._begin_pending(evse, pending, trigger="CablePluggedIn")
        await self._refresh_status(evse)

    async def unplug(self, evse_id: int = 1) -> None:
        """The driver leaves; a running transaction ends with reason EVDisconnected."""
        evse = self._evse(evse_id)
        if evse.vehicle is None:
            raise SimulatorError(f"EVSE {evse_id} has no vehicle")
        if evse.transaction is not None:
            await self._end_transaction(evse, reason="EVDisconnected")
        evse.vehicle = None
        evse.finishing = False
        await self._refresh_status(evse)

    async def authorize(self, id_tag: str, token_type: str = "ISO14443") -> str:
        """Ask the CSMS (or, offline, the local list and cache) whether a token may charge."""
        local = self._local_authorization(id_tag)
        if self.settings.get_bool("LocalPreAuthorize") and local == "Accepted":
            return local
        if self.online:
            try:
                result = await self._call(self._proto.authorize(id_tag, token_type))
            except StationOffline:
                pass
            else:
                status = self._proto.authorize_status(result)
                if self.settings.get_bool("AuthorizationCacheEnabled"):
                    self.auth_cache[id_tag] = status
                return status
        if self.settings.get_bool("LocalAuthorizeOffline") and local is not None:
            return local
        if self.settings.get_bool("AllowOfflineTxForUnknownId"):
            return "Accepted"
        return "Invalid"

    async def start_session(
        self,
        evse_id: int = 1,
        id_tag: str = "",
        *,
        token_type: str = "ISO14443",
        authorize: bool = True,
    ) -> int | str | None:
        """Authorise ``id_tag`` and start a transaction on a plugged-in EVSE.

        Returns the transaction id: 1.6 the CSMS's integer (None when started offline, until
        the queue is replayed), 2.0.1 the station's own id.  Raises SessionRefused.
        """
        evse = self._evse(evse_id)
        self._check_can_start(evse, id_tag)
        if evse.vehicle is None:
            raise SimulatorError(f"EVSE {evse_id} has no vehicle plugged in")
        if authorize:
            status = await self.authorize(id_tag, token_type)
            if status != "Accepted":
                raise SessionRefused(status, f"token {id_tag}")
        tx = await self._begin(evse, id_tag, token_type, trigger="Authorized")
        return tx.transaction_id

    async def stop_session(
        self, evse_id: int = 1, *, reason: str = "Local", id_tag: str | None = None
    ) -> int:
        """End the transaction (the cable stays in: status Finishing).  Returns meterStop."""
        evse = self._evse(evse_id)
        if evse.transaction is None:
            raise SimulatorError(f"no transaction on EVSE {evse_id}")
        return await self._end_transaction(evse, reason=reason, id_tag=id_tag)

    async def fault(self, evse_id: int = 1, error_code: str = "GroundFailure") -> None:
        """The EVSE stops delivering energy and reports Faulted until clear_fault."""
        evse = self._evse(evse_id)
        self._settle()
        evse.fault = error_code
        await self._refresh_status(evse)

    async def clear_fault(self, evse_id: int = 1) -> None:
        evse = self._evse(evse_id)
        self._settle()
        evse.fault = None
        await self._refresh_status(evse)

    # ---- transactions ---------------------------------------------------------------------

    def _check_can_start(self, evse: Evse, id_tag: str) -> None:
        if evse.transaction is not None:
            raise SimulatorError(f"EVSE {evse.id} already has a transaction")
        if evse.fault:
            raise SessionRefused("Faulted", f"EVSE {evse.id}")
        if not evse.operative:
            raise SessionRefused("Unavailable", f"EVSE {evse.id}")
        reservation = evse.reservation
        if reservation is not None and id_tag not in (
            reservation.id_tag,
            reservation.parent_id_tag,
        ):
            raise SessionRefused("Reserved", f"EVSE {evse.id} is reserved for another driver")

    async def _begin(
        self,
        evse: Evse,
        id_tag: str,
        token_type: str,
        *,
        trigger: str,
        remote_start_id: int | None = None,
        profile: ChargingProfile | None = None,
    ) -> Transaction:
        self._check_can_start(evse, id_tag)
        self._clear_pending_start(evse)
        self._settle()
        reservation = evse.reservation
        if reservation is not None:
            self._end_reservation(evse)
        tx = Transaction(
            evse_id=evse.id,
            id_tag=id_tag,
            token_type=token_type,
            started_at=self.clock.now(),
            meter_start=evse.register_wh,
            remote_start_id=remote_start_id,
            reservation_id=reservation.id if reservation is not None else None,
            started_offline=not self.online,
        )
        if self.version == "2.0.1":
            tx.transaction_id = tx.local_id
        evse.transaction = tx
        evse.finishing = False
        if profile is not None:
            self.profiles.install(profile)
        self._allocate(self.clock.now())
        await self._enqueue(self._proto.transaction_started(tx, evse, self._reading(evse), trigger))
        await self._refresh_status(evse)
        if tx.authorization_status not in (None, "Accepted"):
            await self._deauthorize(tx)
            raise SessionRefused(tx.authorization_status or "Invalid", "refused at start")
        return tx

    async def _begin_pending(self, evse: Evse, pending: PendingStart, *, trigger: str) -> None:
        """Start a remote start's transaction: no caller to tell, so a refusal is only logged."""
        try:
            await self._begin(
                evse,
                pending.id_tag,
                pending.token_type,
                trigger=trigger,
                remote_start_id=pending.remote_start_id,
                profile=pending.profile,
            )
        except SimulatorError as error:
            logger.info("%s: remote start on EVSE %s refused: %s", self.identity, evse.id, error)

    async def _deauthorize(self, tx: Transaction) -> None:
        """The CSMS refused the token of a running transaction."""
        evse = self.evses[tx.evse_id]
        if evse.transaction is not tx:
            return
        if self.settings.get_bool("StopTransactionOnInvalidId"):
            await self._end_transaction(evse, reason="DeAuthorized")
        else:  # the transaction goes on without energy (_evse_cap_a gives 0 A)
            await self._refresh_status(evse)

    async def _end_transaction(self, evse: Evse, *, reason: str, id_tag: str | None = None) -> int:
        self._settle()
        tx = evse.transaction
        assert tx is not None
        reading = self._reading(evse)
        tx.ended_at = reading.at
        tx.stop_reason = reason
        tx.meter_stop = reading.energy_wh
        evse.transaction = None
        evse.finishing = evse.vehicle is not None
        self.profiles.remove_transaction_profiles(evse.id)
        self._allocate(self.clock.now())
        await self._enqueue(self._proto.transaction_ended(tx, evse, reading, reason))
        await self._after_transaction(evse)
        await self._refresh_status(evse)
        return tx.meter_stop

    async def _after_transaction(self, evse: Evse) -> None:
        if evse.scheduled_operative is not None:
            evse.operative, evse.scheduled_operative = evse.scheduled_operative, None
        if self._reset_when_idle and not any(e.transaction for e in self.evses.values()):
            kind, self._reset_when_idle = self._reset_when_idle, None
            self._spawn(self.reset(kind))

    # ---- statuses -------------------------------------------------------------------------

    async def _refresh_status(self, evse: Evse, *, force: bool = False) -> None:
        """Tell the CSMS about a status change (and, in 2.0.1, a charging-state change)."""
        self._settle()
        previous, status = evse.reported_status, evse.status()
        tx = evse.transaction
        if (
            tx is not None
            and self.version == "2.0.1"
            and tx.charging_state is not None
            and tx.charging_state != evse.charging_state_v201()
        ):
            await self._enqueue(
                self._proto.transaction_updated(
                    tx, evse, self._reading(evse), "ChargingStateChanged"
                )
            )
        if status == previous and not force:
            return
        if not self.online:
            return  # every status is sent again after the next boot
        evse.reported_status = status
        for payload in self._proto.status_notifications(evse, previous, force):
            await self._send(payload)

    async def _send_all_statuses(self) -> None:
        await self._send(self._proto.station_status_notification())
        for evse in self.evses.values():
            await self._refresh_status(evse, force=True)

    async def refresh_statuses(self) -> None:
        for evse in self.evses.values():
            await self._refresh_status(evse)

    # ---- what the CSMS asks (called by the protocol handlers) -----------------------------

    def remote_start_accept(
        self,
        evse_id: int | None,
        id_tag: str,
        token_type: str,
        remote_start_id: int | None,
        profile: ChargingProfile | None,
    ) -> Evse | None:
        """Pick and hold the EVSE for a remote start, or None to reject it.  A remote start
        prefers an EVSE where a vehicle waits; without one it waits ConnectionTimeOut."""
        candidates = [self.evses.get(evse_id)] if evse_id else list(self.evses.values())
        usable = []
        for evse in candidates:
            if evse is None or evse.pending_start is not None:
                continue
            try:
                self._check_can_start(evse, id_tag)
            except SimulatorError:
                continue
            usable.append(evse)
        if not usable:
            return None
        evse = next((e for e in usable if e.vehicle is not None), usable[0])
        timeout = self.settings.get_int("ConnectionTimeOut")
        evse.pending_start = PendingStart(
            id_tag=id_tag,
            token_type=token_type,
            remote_start_id=remote_start_id,
            expires_at=self.clock.now() + timedelta(seconds=timeout),
            profile=profile,
        )
        return evse

    async def remote_start(self, evse: Evse) -> None:
        """After accepting a remote start: authorise if configured, then start at once when
        the cable is in, else when it is plugged in (plug_in picks up the pending start)."""
        pending = evse.pending_start
        if pending is None:
            return
        if self.settings.get_bool("AuthorizeRemoteTxRequests"):
            status = await self.authorize(pending.id_tag, pending.token_type)
            if status != "Accepted":
                self._clear_pending_start(evse)
                await self._refresh_status(evse)
                return
        if evse.vehicle is not None:
            self._clear_pending_start(evse)
            await self._begin_pending(evse, pending, trigger="RemoteStart")
            return
        self._set_timer(f"pending-{evse.id}", pending.expires_at, lambda: self._expire_start(evse))
        await self._refresh_status(evse)

    async def _expire_start(self, evse: Evse) -> None:
        evse.pending_start = None
        await self._refresh_status(evse)

    def _clear_pending_start(self, evse: Evse) -> None:
        evse.pending_start = None
        self._cancel_timer(f"pending-{evse.id}")

    def find_transaction(self, transaction_id: int | str) -> Evse | None:
        for evse in self.evses.values():
            tx = evse.transaction
            if tx is not None and str(tx.transaction_id) == str(transaction_id):
                return evse
        return None

    async def remote_stop(self, evse: Evse) -> None:
        if evse.transaction is not None:
            await self._end_transaction(evse, reason="Remote")

    def _local_authorization(self, id_tag: str) -> str | None:
        if self.settings.get_bool("LocalAuthListEnabled") and id_tag in self.local_list:
            return self.local_list[id_tag]
        if self.settings.get_bool("AuthorizationCacheEnabled") and id_tag in self.auth_cache:
            return self.auth_cache[id_tag]
        return None

    # ---- the offline queue ----------------------------------------------------------------

    async def _enqueue(self, message: QueuedMessage) -> None:
        """Queue a transaction message and send the queue if online (OCPP keeps these while
        offline and delivers them in order)."""
        if len(self.queue) >= MAX_QUEUE:
            self._drop_oldest_sample()
        self.queue.append(message)
        await self._flush_queue()

    async def _flush_queue(self) -> None:
        """Send what is queued.  The sending runs in the station's own task: a caller that
        is cancelled (a driver leaving, a shutdown) must not abandon a message the CSMS has
        already received, or it would go again later."""
        await asyncio.shield(self._spawn(self._drain_queue()))

    async def _drain_queue(self) -> None:
        async with self._queue_lock:
            while self.queue and self.online:
                message = self.queue[0]
                payload = message.build()
                if payload is None:
                    self.queue.popleft()
                    continue
                try:
                    result = await self._call(payload)
                except StationOffline:
                    return
                except (OCPPError, TimeoutError) as error:
                    message.attempts += 1
                    if message.attempts >= self.settings.get_int("TransactionMessageAttempts"):
                        logger.warning("%s: giving up on %s: %s", self.identity, payload, error)
                        self.queue.popleft()
                        continue
                    # Retry later without holding the queue: later messages wait behind it.
                    retry = self.settings.get_int("TransactionMessageRetryInterval")
                    moment = self.clock.now() + timedelta(seconds=retry * message.attempts)
                    self._set_timer("queue-retry", moment, self._flush_queue)
                    return
                self.queue.popleft()
                if message.on_result is not None:
                    message.on_result(result)
                tx = message.transaction
                if tx is not None and tx.authorization_status not in (None, "Accepted"):
                    self._spawn(self._deauthorize(tx))

    def queue_fault(self, *, lose: Collection[int] = (), order: Sequence[int] | None = None) -> int:
        """Fault injection (tests, demos): the offline queue of a faulty 2.0.1 station.  The
        queued messages are built now, so their seqNos are taken in queue order; those at the
        positions in ``lose`` are lost and the rest kept in ``order`` (queue positions;
        default: as queued).  Returns how many were lost."""
        if self.version != "2.0.1":
            raise SimulatorError("Only a 2.0.1 queue has sequence numbers to lose")
        built = [replace(message, build=_frozen(message.build())) for message in self.queue]
        positions = list(order) if order is not None else list(range(len(built)))
        kept = [built[index] for index in positions if index not in lose]
        self.queue.clear()
        self.queue.extend(kept)
        return len(built) - len(kept)

    def _drop_oldest_sample(self) -> None:
        for index, message in enumerate(self.queue):
            if message.is_sample:
                del self.queue[index]
                return
        self.queue.popleft()


def _frozen(payload: Any) -> Callable[[], Any]:
    return lambda: payload
