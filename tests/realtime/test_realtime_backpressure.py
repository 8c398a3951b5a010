"""Back-pressure: a stream's queue is bounded, overflow means resync, and a client that
does not read never holds up anyone else (both profiles, real sockets)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import connect

from snsfeed.realtime.publisher import FEED_UPDATES, local_hub
from snsfeed.realtime.stream import Stream
from tests.helpers import Api


def _event(n: int, padding: int = 0) -> bytes:
    return orjson.dumps(
        {"type": "new_content", "data": {"content_id": f"event-{n}", "pad": "x" * padding}}
    )


def _stream_of(app: FastAPI, user_id: str) -> Stream:
    (stream,) = [s for s in app.state.realtime.streams if s.user_id == uuid.UUID(user_id)]
    return stream


async def _subscribed_non_reader(ws_url: str, token: str) -> Any:
    """A stream subscribed to feed updates whose client never reads what it is sent."""
    conn = await connect(
        ws_url,
        additional_headers={"Authorization": f"Bearer {token}"},
        proxy=None,
        compression=None,
        max_queue=1,
        close_timeout=0.2,  # it does not read: closing cannot wait for the handshake
    )
    await conn.send('{"type": "subscribe", "channel": "feed_updates"}')
    return conn


async def _until(check: Any, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_overflow_sends_resync_then_drops_until_catch_up(
    api: Api, ws: Any, app: FastAPI
) -> None:
    alice = await api.register()
    user = uuid.UUID(alice.id)
    stream = await ws(alice.access_token)
    await stream.subscribe()
    limit = app.state.settings.realtime_queue_size
    # Delivered without yielding to the loop: the sender cannot drain in between.
    for n in range(limit + 10):
        local_hub.deliver(user, _event(n), FEED_UPDATES)
    assert (await stream.recv())["type"] == "resync"
    local_hub.deliver(user, _event(-1), FEED_UPDATES)  # dropped: the client has not caught up
    await stream.send({"type": "catch_up", "last_seen_id": str(uuid.uuid4())})
    assert (await stream.recv())["type"] == "catch_up"
    local_hub.deliver(user, _event(-2), FEED_UPDATES)
    assert (await stream.recv())["data"]["content_id"] == "event--2"


async def test_queue_stays_bounded_while_a_client_does_not_read(
    api: Api, ws: Any, app: FastAPI, ws_url: str
) -> None:
    slow = await api.register()
    conn = await _subscribed_non_reader(ws_url, slow.access_token)
    try:
        stream = _stream_of(app, slow.id)
        await _until(lambda: FEED_UPDATES in stream.channels)
        limit = app.state.settings.realtime_queue_size
        for n in range(4 * limit):
            local_hub.deliver(uuid.UUID(slow.id), _event(n, 60_000), FEED_UPDATES)
            assert stream.queued <= limit
            await asyncio.sleep(0)
        await _until(lambda: stream.dropping or stream.queued == limit)
    finally:
        await conn.close()


async def test_slow_client_does_not_delay_another(
    api: Api, ws: Any, app: FastAPI, ws_url: str
) -> None:
    slow, fast = await api.register(), await api.register()
    conn = await _subscribed_non_reader(ws_url, slow.access_token)
    try:
        slow_stream = _stream_of(app, slow.id)
        await _until(lambda: FEED_UPDATES in slow_stream.channels)
        fast_client = await ws(fast.access_token)
        await fast_client.subscribe()
        # Fill the slow client's socket until its sender is stuck in a write.
        n = 0
        while slow_stream.queued < 8:
            local_hub.deliver(uuid.UUID(slow.id), _event(n, 60_000), FEED_UPDATES)
            n += 1
            await asyncio.sleep(0)
        started = time.monotonic()
        local_hub.deliver(uuid.UUID(fast.id), _event(0), FEED_UPDATES)
        message = await fast_client.recv_type("new_content", within=5)
        assert message["data"]["content_id"] == "event-0"
        assert time.monotonic() - started < 2.0
    finally:
        await conn.close()


async def test_client_stuck_in_a_write_is_disconnected(
    api: Api, app: FastAPI, ws_url: str, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.state.settings, "realtime_send_timeout_seconds", 0.5)
    slow = await api.register()
    conn = await _subscribed_non_reader(ws_url, slow.access_token)
    try:
        stream = _stream_of(app, slow.id)
        await _until(lambda: FEED_UPDATES in stream.channels)
        user = uuid.UUID(slow.id)
        n = 0
        while local_hub.is_connected(user):
            local_hub.deliver(user, _event(n, 60_000), FEED_UPDATES)
            n += 1
            await asyncio.sleep(0.001)
            assert n < 100_000, "the stuck stream was never closed"
    finally:
        await conn.close()
