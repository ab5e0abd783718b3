"""The ASGI server's websocket protocol: uvicorn's ``websockets-sansio`` implementation, where
any frame from the peer counts as a sign of life, not only the pong to our ping.

Why: some chargers never answer websocket pings (ocpp issue #626) but send their OCPP traffic
and heartbeats; uvicorn alone would close them ``ping_timeout`` seconds after the first
unanswered ping.  Here a ping that gets no pong but any other frame is as good as answered:
the next ping is scheduled and nothing is closed.  A socket is closed only when the peer sent
nothing at all for ``ping_timeout`` seconds after a ping.  The policy (interval, timeout) is
chosen in ``config/processes.py`` and explained in docs/deployment.md ("Keepalive").

Selected with ``uvicorn --ws config.keepalive:WebSocketProtocol``.  It relies on uvicorn's
keepalive state (``pong_timer``, ``pending_ping_payload``, ``schedule_ping``) of the pinned
version; tests/core/test_keepalive.py checks the behaviour against a real server.
"""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class WebSocketProtocol(WebSocketsSansIOProtocol):
    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.pong_timer is not None and not self.close_sent:
            # A ping is waiting for its pong and the peer sent something else: it is alive.
            self.pong_timer.cancel()
            self.pong_timer = None
            self.pending_ping_payload = None
            self.schedule_ping()
