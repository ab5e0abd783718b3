"""The websocket endpoint stations connect to: ``/ocpp/<identity>``.

connect():   subprotocol negotiation, identity → tenant (public registry, cached per process),
             HTTP Basic password (security profile 1), all before the upgrade is accepted;
             then the station is marked online off the handshake path (presence.py).
receive():   frame checks the spec names (protocol.precheck), then the version adapter.
commands:    the station's channel-layer group receives ``ocpp.command`` messages from any
             process (apps/ocpp/commands.py) and answers on the caller's reply channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
import uuid
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from ocpp.exceptions import OCPPError

from apps.stations import services as stations

from . import presence, protocol
from .adapter import StationCallError
from .commands import station_group
from .dbpool import run_in_tenant
from .handshake import StationAccess, identity_from_scope, resolve_station
from .link import StationLink
from .messagelog import message_log
from .v16 import Adapter16
from .v201 import Adapter201

logger = logging.getLogger(__name__)
TOUCH_EVERY = 30.0  # seconds between last-seen writes; any frame counts as liveness


class _Connection:
    """What the ocpp library sends through: logs the frame, respells 1.6 error codes."""

    def __init__(self, consumer: OcppConsumer) -> None:
        self.consumer = consumer

    async def send(self, message: str) -> None:
        consumer = self.consumer
        message = protocol.translate_error(consumer.link.version, message)
        consumer.log_frame("out", message)
        await consumer.send(text_data=message)

    async def recv(self) -> str:  # the library's start() loop is not used
        raise RuntimeError("frames are pushed by the consumer")


class OcppConsumer(AsyncWebsocketConsumer):
    link: StationLink | None = None

    async def connect(self) -> None:
        self.link = None
        self.tasks: set[asyncio.Task] = set()
        # The handshake is answered exactly once: accepted, or refused with an HTTP status.
        # A supersede that arrives meanwhile only marks it; see ocpp_supersede.
        self.answered = False
        self.accepted = False
        self.marked_online = False
        self.superseded = False
        self.claimed: str | None = None
        identity = identity_from_scope(self.scope)
        if identity is None:
            return await self.deny(404)
        subprotocol = protocol.choose_subprotocol(self.scope.get("subprotocols") or [])
        if subprotocol is None:
            # OCA TC_B_58: refuse the upgrade when no offered subprotocol is supported.
            return await self.deny(400)
        if not presence.gate.try_enter():
            # Shed load: a prompt, retryable refusal instead of a handshake that times out.
            return await self.deny(503)
        try:
            await self._handshake(identity, subprotocol)
        except Exception:
            # The database or Redis failing mid-handshake: a retryable refusal, not a 500.
            logger.exception("Handshake of %s failed", identity)
            await self.deny(503)
        finally:
            presence.gate.leave()

    async def _handshake(self, identity: str, subprotocol: str) -> None:
        self.arrival = presence.sockets.arrived()
        access = await resolve_station(
            identity=identity,
            authorization=self._header(b"authorization"),
            host=self._header(b"host"),
            # Profiles 2 and 3: TLS facts come from headers, believed only from a trusted proxy.
            peer=(self.scope.get("client") or (None,))[0],
            headers=self.scope.get("headers", []),
        )
        if access.refusal is not None:
            return await self.deny(access.refusal)
        # The latest handshake of an identity to arrive wins, once it has authenticated.
        self.claimed = identity
        loser = presence.sockets.claim(identity, self)
        if loser is not None:
            await loser.supersede()
        if self.superseded:
            return await self.deny(409)
        version = protocol.SUBPROTOCOLS[subprotocol]
        link = StationLink(
            tenant=access.tenant,
            station_id=access.station_id,
            identity=identity,
            version=version,
            connection_id=uuid.uuid4().hex,
            lax=access.lax,
            registration_status=access.registration_status,
        )
        self.link = link
        self.group = station_group(access.tenant.schema_name, access.station_id)
        # Another socket of this station on another server process closes.
        await self.channel_layer.group_send(
            self.group, {"type": "ocpp.supersede", "connection_id": link.connection_id}
        )
        await self.channel_layer.group_add(self.group, self.channel_name)
        adapter = Adapter16 if version == "1.6" else Adapter201
        self.cp = adapter(identity, _Connection(self), link=link, background=self.tasks)
        self.handled = self.cp.handled_actions
        if self.superseded:
            return await self.deny(409)
        self.answered = True
        try:
            await self.accept(subprotocol=subprotocol)
        except OSError:  # uvicorn's ClientDisconnected: the station gave up waiting
            return
        self.accepted = True
        if self.superseded:  # while the accept went out
            await self.close(code=4001)
            return
        # What a connect sets in motion (online, history, station.connected and its
        # handlers) runs after the accept, batched with other stations' connects.
        presence.connects.connected(link)

    async def supersede(self) -> None:
        """A newer socket of this station exists: refuse this handshake if it is still
        pending (connect() answers 409 at its next step), close the socket if accepted."""
        self.superseded = True
        if self.accepted:
            logger.info("%s reconnected; closing the older socket", self.link.identity)
            await self.close(code=4001)

    async def deny(self, status: int) -> None:
        """Answer the handshake with an HTTP status (ASGI websocket denial response)."""
        if self.answered:
            return
        self.answered = True
        self.closed = True
        with contextlib.suppress(OSError):  # uvicorn's ClientDisconnected: nobody to answer
            await self._refuse(status)

    async def _refuse(self, status: int) -> None:
        if "websocket.http.response" in self.scope.get("extensions", {}):
            headers = [(b"content-type", b"text/plain")]
            if status == 401:
                headers.append((b"www-authenticate", b'Basic realm="chargegrid OCPP"'))
            if status == 503:
                retry = random.randint(1, max(1, settings.OCPP_HANDSHAKE_RETRY_AFTER))
                headers.append((b"retry-after", str(retry).encode()))
            await self.base_send(
                {"type": "websocket.http.response.start", "status": status, "headers": headers}
            )
            await self.base_send({"type": "websocket.http.response.body", "body": b""})
        else:
            await self.base_send({"type": "websocket.close"})

    def _header(self, name: bytes) -> str | None:
        for key, value in self.scope.get("headers", []):
            if key == name:
                return value.decode("latin-1")
        return None

    async def disconnect(self, code: int) -> None:
        for task in list(self.tasks):
            task.cancel()
        if getattr(self, "claimed", None) is not None:
            presence.sockets.release(self.claimed, self)
        if self.link is None:
            return
        try:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        except Exception:  # Redis away: the disconnect must still be recorded
            logger.warning("%s: could not leave its channel group", self.link.identity)
        if not self.accepted:
            return
        if self.superseded:  # see presence.SUPERSEDED_DISCONNECT_DELAY
            presence.later(presence.SUPERSEDED_DISCONNECT_DELAY, self._record_disconnect())
        else:
            await self._record_disconnect()

    async def _record_disconnect(self) -> None:
        # Never write a disconnect before the connect it undoes.
        await presence.connects.settled(self.link)
        await self.link.db(
            stations.station_disconnected,
            station_id=self.link.station_id,
            connection_id=self.link.connection_id,
        )

    async def __call__(self, scope, receive, send) -> None:
        """As Channels' ``AsyncConsumer.__call__``, with a leaner loop.  Channels waits on the
        socket and the channel layer together (``await_many_dispatch``: ``asyncio.wait`` and a
        new task for every message), which alone costs more than half of what a bare ASGI
        echo does per frame.  Here frames are read in this coroutine and channel-layer
        messages (commands, supersede) in a task of their own."""
        self.scope = scope
        self.closed = False
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = await self.channel_layer.new_channel()
        self.base_send = send
        from_layer = asyncio.create_task(self._from_layer())
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass
        finally:
            from_layer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await from_layer  # channels_redis unsubscribes the channel on cancellation

    async def _from_layer(self) -> None:
        while True:
            message = await self.channel_layer.receive(self.channel_name)
            try:
                await self.dispatch(message)
            except StopConsumer:
                return
            except Exception:
                logger.exception("Channel-layer message %s failed", message.get("type"))

    async def send(self, text_data=None, bytes_data=None, close=False) -> None:
        if not self.closed:  # a frame answered after a supersede closed the socket is dropped
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)

    async def close(self, code=None, reason=None) -> None:
        if not getattr(self, "answered", True):
            return await self.deny(403)  # before the accept: refuse the handshake
        if not self.closed:
            self.closed = True
            await super().close(code=code, reason=reason)

    async def websocket_disconnect(self, message: dict) -> None:
        """As Channels does, minus its ``aclose_old_connections``: a hop to the process's
        shared sync thread for every closed socket and every refused handshake (7 % of the
        server's time in a reconnect storm), for a connection this consumer never uses."""
        for group in self.groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        await self.disconnect(message["code"])
        raise StopConsumer()

    async def dispatch(self, message: dict) -> None:
        """As Channels does, minus its ``close_old_connections`` before every message: that hops
        to the process's single shared sync thread, so every frame of every station would
        queue behind it.  This consumer never uses Django's connection on the event loop; its
        ORM work runs on the OCPP pool (dbpool.py), which looks after its own connections."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- frames from the station ------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        link = self.link
        if link is None:
            return
        if text_data is None:
            await self.send(
                text_data=protocol.call_error(
                    link.version, "-1", "RpcFrameworkError", "OCPP-J frames are text, not binary"
                )
            )
            return
        if not self.marked_online:
            # Whoever gets an answer from this socket sees the station online.
            await presence.connects.online(link)
            self.marked_online = True
        now = time.monotonic()
        if now - link.last_touch > TOUCH_EVERY:
            link.last_touch = now
            await link.seen()
        checked = protocol.precheck(
            text_data, link.version, settings.OCPP_MAX_FRAME_BYTES, self.handled
        )
        if isinstance(checked, protocol.Rejection):
            self.log_frame("in", text_data[:2000], parsed=None)
            if checked.reply is not None:
                self.log_frame("out", checked.reply)
                await self.send(text_data=checked.reply)
            return
        self.log_frame("in", text_data, parsed=checked)
        if checked.message_type == protocol.CALL and checked.action == "Heartbeat":
            link.last_touch = now
            await link.seen()
        if checked.message_type == protocol.CALL:
            await self.cp.handle_call(checked.unique_id, checked.action, checked.payload)
        else:  # answers to our CALLs go to the library's response queue
            await self.cp.route_message(text_data)

    def log_frame(self, direction: str, text: str, parsed: Any = "unparsed") -> None:
        if self.link is None:
            return
        if parsed == "unparsed":
            try:
                message = json.loads(text)
                parsed = protocol.Frame(
                    message[0],
                    message[1],
                    message[2] if message[0] == 2 else "",
                    message[3] if message[0] == 2 else message[2:],
                )
            except (ValueError, IndexError, KeyError, TypeError):
                parsed = None
        if parsed is None:
            message_log.add(self.link, direction, 0, "", "", {"raw": text})
        else:
            message_log.add(
                self.link,
                direction,
                parsed.message_type,
                parsed.unique_id,
                parsed.action,
                parsed.payload,
            )

    # --- commands from any server process ----------------------------------------------------

    async def ocpp_supersede(self, event: dict) -> None:
        if self.link is not None and event["connection_id"] != self.link.connection_id:
            await self.supersede()

    async def ocpp_command(self, event: dict) -> None:
        # Never await a CALL inside a handler: its CallResult could not be routed meanwhile.
        task = asyncio.create_task(self._execute(event))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _execute(self, event: dict) -> None:
        reply_to = event["reply_to"]
        await self.channel_layer.send(reply_to, {"type": "ocpp.ack"})
        timeout = float(event.get("timeout") or settings.OCPP_RESPONSE_TIMEOUT)
        reply: dict[str, Any]
        try:
            payload = await self.cp.send_call(event["action"], event["payload"], timeout)
            reply = {"ok": True, "payload": payload}
        except StationCallError as error:
            reply = {
                "ok": False,
                "error": "rejected",
                "code": error.code,
                "description": error.description,
            }
        except OCPPError as error:
            reply = {
                "ok": False,
                "error": "invalid",
                "code": error.code,
                "description": str(error.description),
            }
        except TimeoutError:
            reply = {"ok": False, "error": "timeout"}
        except Exception as error:  # a command must always get an answer
            logger.exception("Command %s to %s failed", event.get("action"), self.link.identity)
            reply = {"ok": False, "error": "internal", "description": str(error)}
        await self.channel_layer.send(reply_to, {"type": "ocpp.reply", **reply})


__all__ = ["OcppConsumer", "StationAccess", "run_in_tenant"]
