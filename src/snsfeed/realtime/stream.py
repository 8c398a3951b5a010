"""One open ``/ws/feed`` stream: its subscriptions and its bounded outgoing queue.

Producers never wait for a client. ``offer`` appends to a queue of at most
``realtime_queue_size`` messages and returns; one sender task per stream writes the queue
to the socket. When the queue is full the stream overflows: what is queued is dropped,
``{"type": "resync"}`` is queued instead, and further events are dropped until the client
asks to catch up (``catch_up``), so memory per stream stays bounded and a slow client only
ever hurts itself.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson

from snsfeed.realtime.publisher import CONTROL

RESYNC = orjson.dumps({"type": "resync", "data": {"reason": "overflow"}})

# Replies to the client's own requests may exceed the queue bound by this much before the
# stream is closed: a client that keeps sending but never reads must not grow it forever.
_REPLY_ALLOWANCE = 16


@dataclass(frozen=True)
class CloseRequest:
    code: int
    reason: str


class CloseCode:
    """WebSocket close codes used by ``/ws/feed`` (4000–4999 are application codes)."""

    NORMAL = 1000
    GOING_AWAY = 1001  # the server shuts down
    POLICY = 1008
    TOO_BIG = 1009
    UNAUTHORIZED = 4401  # no, invalid or expired access token
    TOO_SLOW = 4408  # the client does not read what it asked for
    TOO_MANY = 4429  # too many streams for this user


class Stream:
    """A client stream as the hub sees it (a ``Sink``)."""

    __slots__ = (
        "_limit",
        "_pending",
        "_wake",
        "channels",
        "close_request",
        "dropped",
        "dropping",
        "expiry",
        "user_id",
    )

    def __init__(self, user_id: uuid.UUID, limit: int) -> None:
        self.user_id = user_id
        self.channels: set[str] = set()
        self.dropping = False
        self.dropped = 0
        self.close_request: CloseRequest | None = None
        self.expiry: asyncio.TimerHandle | None = None
        self._limit = limit
        self._pending: deque[bytes] = deque()
        self._wake = asyncio.Event()

    @property
    def queued(self) -> int:
        return len(self._pending)

    def offer(self, channel: str, data: bytes) -> None:
        """An event from the hub: queued if subscribed, dropped while resyncing."""
        if self.close_request is not None:
            return
        if channel != CONTROL and channel not in self.channels:
            return
        if self.dropping:
            self.dropped += 1
            return
        if len(self._pending) >= self._limit:
            self._overflow()
            return
        self._pending.append(data)
        self._wake.set()

    def reply(self, data: bytes) -> None:
        """An answer to the client's own message (pong, subscribed, catch-up …)."""
        if self.close_request is not None:
            return
        if len(self._pending) >= self._limit + _REPLY_ALLOWANCE:
            self.close(CloseCode.TOO_SLOW, "client does not read its stream")
            return
        self._pending.append(data)
        self._wake.set()

    def resume(self) -> None:
        """The client is catching up: deliver live events again."""
        self.dropping = False

    def close(self, code: int, reason: str) -> None:
        if self.close_request is None:
            self.close_request = CloseRequest(code, reason)
            self._wake.set()

    def _overflow(self) -> None:
        self.dropped += len(self._pending) + 1
        self._pending.clear()
        self._pending.append(RESYNC)
        self.dropping = True
        self._wake.set()

    async def run_sender(
        self,
        send: Callable[[str], Awaitable[None]],
        close: Callable[[int, str], Awaitable[None]],
        send_timeout: float,
    ) -> None:
        """Write queued messages until a close is requested; a stuck write closes the stream."""
        while True:
            request = self.close_request
            if request is not None:
                await close(request.code, request.reason)
                return
            if not self._pending:
                self._wake.clear()
                await self._wake.wait()
                continue
            data = self._pending.popleft()
            try:
                await asyncio.wait_for(send(data.decode()), send_timeout)
            except TimeoutError:
                self.close_request = CloseRequest(CloseCode.TOO_SLOW, "client too slow")
                return
