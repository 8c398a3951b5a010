"""Real WebSocket clients against the app under test.

The session's app (both profiles) is served by an in-loop uvicorn on an ephemeral
loopback port, so the stream is exercised over a real socket while the test can still
reach the app's runtime (event bus, Redis) directly.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
import pytest
import uvicorn
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from snsfeed.realtime.publisher import publish


class WsClient:
    """A test client for ``/ws/feed``: JSON messages, and waiting with a deadline."""

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn

    async def send(self, message: dict[str, Any]) -> None:
        await self.conn.send(orjson.dumps(message).decode())

    async def recv(self, within: float = 10.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.conn.recv(), within)
        message: dict[str, Any] = orjson.loads(raw)
        return message

    async def recv_type(
        self, *types: str, within: float = 10.0, skip: tuple[str, ...] = ("heartbeat",)
    ) -> dict[str, Any]:
        """The next message of one of ``types``; messages of ``skip`` types are passed over,
        anything else fails the test."""
        deadline = time.monotonic() + within
        while True:
            message = await self.recv(max(0.01, deadline - time.monotonic()))
            if message["type"] in types:
                return message
            assert message["type"] in skip, f"expected {types}, got {message}"

    async def subscribe(self, channel: str = "feed_updates") -> None:
        await self.send({"type": "subscribe", "channel": channel})
        reply = await self.recv_type("subscribed")
        assert reply["data"] == {"channel": channel}

    async def closed(self, within: float = 10.0) -> tuple[int | None, str | None]:
        """Read until the server closes; (code, reason)."""
        deadline = time.monotonic() + within
        try:
            while True:
                await asyncio.wait_for(self.conn.recv(), max(0.01, deadline - time.monotonic()))
        except ConnectionClosed as exc:
            if exc.rcvd is None:
                return None, None
            return exc.rcvd.code, exc.rcvd.reason

    async def close(self) -> None:
        await self.conn.close()


Connect = Callable[..., Any]


async def open_ws(
    url: str,
    token: str | None = None,
    *,
    how: str = "header",
    welcome: bool = True,
) -> WsClient:
    headers: dict[str, str] = {}
    subprotocols: list[str] | None = None
    if token is not None and how == "header":
        headers["Authorization"] = f"Bearer {token}"
    elif token is not None and how == "query":
        url = f"{url}?access_token={token}"
    elif token is not None and how == "subprotocol":
        subprotocols = ["snsfeed.bearer", token]
    conn = await connect(
        url,
        additional_headers=headers,
        subprotocols=subprotocols,  # type: ignore[arg-type]
        proxy=None,
        compression=None,
        open_timeout=10,
    )
    client = WsClient(conn)
    if welcome:
        hello = await client.recv_type("welcome")
        assert hello["data"]["user_id"]
    return client


@pytest.fixture(scope="session")
async def ws_url(app: FastAPI) -> AsyncIterator[str]:
    """``ws://127.0.0.1:<port>/ws/feed`` serving the session's app (lifespan already run)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.01)
    yield f"ws://127.0.0.1:{port}/ws/feed"
    server.should_exit = True
    await task
    sock.close()


@pytest.fixture
async def ws(ws_url: str, client: Any) -> AsyncIterator[Callable[..., Any]]:
    """Open streams for a test; all closed afterwards. Depends on ``client`` for a clean app."""
    opened: list[WsClient] = []

    async def _open(token: str | None, **kwargs: Any) -> WsClient:
        stream = await open_ws(ws_url, token, **kwargs)
        opened.append(stream)
        return stream

    yield _open
    for stream in opened:
        await stream.close()


async def settle(app: FastAPI) -> None:
    """Wait until the event bus has handled everything written so far."""
    if app.state.runtime.bus is not None:
        await app.state.runtime.bus.wait_idle(within_seconds=30)


SENTINEL = "sentinel"


async def expect_nothing_before_sentinel(app: FastAPI, stream: WsClient, user_id: str) -> None:
    """Proves a stream got no feed message for what happened so far.

    Once the bus is idle, every message the consumers produced has been published; a
    sentinel published after that reaches the stream after them (one Redis connection per
    process delivers in order, and the in-process hub delivers synchronously), so it must
    be the next feed message.
    """
    import uuid

    await settle(app)
    await publish(
        app.state.redis,
        uuid.UUID(user_id),
        {"type": "new_content", "data": {"content_id": SENTINEL}},
    )
    message = await stream.recv_type("new_content", "content_deleted")
    assert message["data"]["content_id"] == SENTINEL, f"unexpected delivery: {message}"


async def received_before_sentinel(app: FastAPI, stream: WsClient, user_id: str) -> list[str]:
    """Content ids of the feed messages a stream got for what happened so far (see above)."""
    import uuid

    await settle(app)
    await publish(
        app.state.redis,
        uuid.UUID(user_id),
        {"type": "new_content", "data": {"content_id": SENTINEL}},
    )
    ids = []
    while True:
        message = await stream.recv_type("new_content", "content_deleted")
        if message["data"]["content_id"] == SENTINEL:
            return ids
        ids.append(message["data"]["content_id"])
