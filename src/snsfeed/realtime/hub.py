"""The process's real-time hub: open streams, the Redis subscription, heartbeats.

With Redis, each API process keeps ONE pub/sub connection and subscribes to the channel
``rt:user:<id>`` of every user with a stream open in this process (unsubscribing when the
last one closes). A process therefore receives only messages for its own users, and a
message for an offline user costs one PUBLISH that nobody receives; a pattern
subscription (``rt:user:*``) would instead send every message to every process.

Every ``realtime_heartbeat_seconds`` the hub sends each stream a heartbeat and renews the
presence keys of its users (TTL ``realtime_presence_ttl_seconds``). If the pub/sub
connection breaks, the hub reconnects, subscribes again and tells every stream to
``resync``, since messages may have been missed in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict, deque
from typing import Any

import orjson
import structlog

from snsfeed.config import Settings
from snsfeed.realtime.publisher import (
    CONTROL,
    USER_CHANNEL,
    LocalHub,
    local_hub,
    mark_online,
    user_channel,
)
from snsfeed.realtime.stream import CloseCode, Stream

log = structlog.get_logger(__name__)

HEARTBEAT = orjson.dumps({"type": "heartbeat"})
RESYNC_RECONNECTED = orjson.dumps({"type": "resync", "data": {"reason": "reconnected"}})
_SUBSCRIBE_TIMEOUT = 5.0


class RealtimeUnavailable(Exception):
    """The hub cannot deliver to a new stream (Redis pub/sub is down)."""


class RealtimeHub:
    def __init__(self, settings: Settings, redis: Any, registry: LocalHub = local_hub) -> None:
        self.settings = settings
        self.redis = redis
        self.registry = registry
        self.streams: set[Stream] = set()
        self._node_channel = f"rt:node:{uuid.uuid4()}"
        self._pubsub: Any = None
        self._lock = asyncio.Lock()
        # Per channel, the attaches waiting for Redis to confirm their SUBSCRIBE, in order.
        self._confirmations: dict[bytes, deque[asyncio.Future[None]]] = defaultdict(deque)
        self._ready: dict[uuid.UUID, asyncio.Future[None]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._to_mark: set[uuid.UUID] = set()
        self._marking: asyncio.Future[None] | None = None

    async def start(self) -> None:
        if self.redis is not None:
            try:
                await self._open_pubsub()
            except Exception as exc:  # Redis down at start-up: the reader keeps retrying
                log.warning("realtime_pubsub_unavailable", error=repr(exc))
            self._tasks.append(asyncio.create_task(self._read_loop(), name="realtime:pubsub"))
        self._tasks.append(asyncio.create_task(self._heartbeat_loop(), name="realtime:heartbeat"))

    async def stop(self) -> None:
        for stream in list(self.streams):
            stream.close(CloseCode.GOING_AWAY, "server shutting down")
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
            self._pubsub = None

    # --- streams ---------------------------------------------------------------------------

    async def attach(self, stream: Stream) -> bool:
        """Start delivering to ``stream``; False when the user has too many streams open."""
        user = stream.user_id
        if self.registry.streams_of(user) >= self.settings.realtime_max_streams_per_user:
            return False
        self.streams.add(stream)
        first = self.registry.subscribe(user, stream)
        if self.redis is None:
            return True
        try:
            if first:
                self._ready[user] = await self._subscribe(user)
            await asyncio.wait_for(asyncio.shield(self._ready[user]), _SUBSCRIBE_TIMEOUT)
            await self._mark_online(user)
        except Exception as exc:
            log.warning("realtime_attach_failed", user_id=str(user), error=repr(exc))
            await self.detach(stream)
            raise RealtimeUnavailable(repr(exc)) from exc
        return True

    async def detach(self, stream: Stream) -> None:
        if stream.expiry is not None:
            stream.expiry.cancel()
        self.streams.discard(stream)
        last = self.registry.unsubscribe(stream.user_id, stream)
        if last and self.redis is not None:
            # Presence is left to expire: another process may hold a stream of this user.
            self._ready.pop(stream.user_id, None)
            with contextlib.suppress(Exception):  # a reconnect will not resubscribe it anyway
                async with self._lock:
                    if self._pubsub is not None:
                        await self._pubsub.unsubscribe(user_channel(stream.user_id))

    async def _mark_online(self, user: uuid.UUID) -> None:
        """Presence for a new stream; streams opening together share one Redis call (a
        burst of reconnects would otherwise take a pooled connection each)."""
        self._to_mark.add(user)
        if self._marking is None:
            self._marking = asyncio.ensure_future(self._flush_presence())
        await asyncio.shield(self._marking)

    async def _flush_presence(self) -> None:
        await asyncio.sleep(0)  # let the attaches of this loop turn join
        users, self._to_mark, self._marking = self._to_mark, set(), None
        await mark_online(self.redis, users, self.settings.realtime_presence_ttl_seconds)

    async def _subscribe(self, user: uuid.UUID) -> asyncio.Future[None]:
        channel = user_channel(user)
        confirmed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        async with self._lock:
            if self._pubsub is None:
                raise RealtimeUnavailable("Redis pub/sub is not connected")
            self._confirmations[channel.encode()].append(confirmed)
            await self._pubsub.subscribe(channel)
        return confirmed

    # --- Redis pub/sub ----------------------------------------------------------------------

    async def _open_pubsub(self) -> None:
        pubsub = self.redis.pubsub()
        users = sorted({s.user_id for s in self.streams}, key=str)
        # The node channel keeps the connection subscribed even with no stream open.
        await pubsub.subscribe(self._node_channel, *[user_channel(u) for u in users])
        self._pubsub = pubsub

    async def _reopen(self) -> None:
        async with self._lock:
            old, self._pubsub = self._pubsub, None
            if old is not None:
                with contextlib.suppress(Exception):
                    await old.aclose()
            await self._open_pubsub()
            # Whoever waited for a confirmation is subscribed by the call above.
            for waiting in self._confirmations.values():
                for future in waiting:
                    if not future.done():
                        future.set_result(None)
            self._confirmations.clear()
        for stream in list(self.streams):
            stream.offer(CONTROL, RESYNC_RECONNECTED)

    async def _read_loop(self) -> None:
        backoff = 0.2
        prefix = USER_CHANNEL.encode()
        while True:
            try:
                if self._pubsub is None:
                    await self._reopen()
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=False, timeout=1.0
                )
                backoff = 0.2
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("realtime_pubsub_failed", error=repr(exc))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                with contextlib.suppress(Exception):
                    await self._reopen()
                continue
            if message is None:
                continue
            kind, channel = message["type"], message["channel"]
            if kind == "message" and channel.startswith(prefix):
                try:
                    user = uuid.UUID(channel[len(prefix) :].decode())
                except ValueError:
                    continue
                self.registry.deliver(user, message["data"])
            elif kind == "subscribe":
                waiting = self._confirmations.get(channel)
                if waiting:
                    future = waiting.popleft()
                    if not future.done():
                        future.set_result(None)
                    if not waiting:
                        del self._confirmations[channel]

    async def beat(self) -> None:
        """One heartbeat: every stream hears from the server, presence is renewed."""
        streams = list(self.streams)
        for stream in streams:
            stream.offer(CONTROL, HEARTBEAT)
        try:
            await mark_online(
                self.redis,
                {s.user_id for s in streams},
                self.settings.realtime_presence_ttl_seconds,
            )
        except Exception as exc:  # Redis away: presence catches up on the next beat
            log.warning("realtime_presence_failed", error=repr(exc))

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.realtime_heartbeat_seconds)
            await self.beat()
