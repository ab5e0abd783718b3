"""Sends to channel-layer groups from worker threads reach the group, all of them, in order,
through the real Redis channel layer."""

from __future__ import annotations

import asyncio
import threading
import uuid

from channels.layers import get_channel_layer

from apps.core import broadcast


async def test_sends_from_worker_threads_all_arrive_in_order():
    layer = get_channel_layer()
    group = f"broadcast-test-{uuid.uuid4().hex[:8]}"
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    broadcast.register_loop(asyncio.get_running_loop())
    try:

        def worker(name: str) -> None:
            for n in range(150):
                broadcast.group_send(group, {"type": "test.message", "worker": name, "n": n})

        threads = [threading.Thread(target=worker, args=(name,)) for name in "ab"]
        for thread in threads:
            thread.start()
        received = []
        while len(received) < 300:
            received.append(await asyncio.wait_for(layer.receive(channel), 10))
        for thread in threads:
            thread.join()
        for name in "ab":
            assert [m["n"] for m in received if m["worker"] == name] == list(range(150))
        assert not broadcast._queue
    finally:
        await layer.group_discard(group, channel)
        broadcast.register_loop(None)
