"""Sending a real-time message to a user, wherever their streams are connected.

With Redis, a message goes out on the user's pub/sub channel ``rt:user:<id>``; every API
process holding one of the user's sockets is subscribed to it (``realtime.hub``). Without
Redis (embedded profile) the consumers run inside the API process and deliver through the
in-process hub. ``connected`` lets producers skip work for users nobody is streaming to:
presence is a key ``rt:online:<id>`` with a TTL, refreshed by the heartbeat of every
process holding a stream of that user, so a crashed process leaves nobody "online" for
longer than ``realtime_presence_ttl_seconds``.

The payload on the wire is the JSON message itself; which client channel
(``feed_updates``, ``notifications``) a message belongs to follows from its ``type``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import orjson

USER_CHANNEL = "rt:user:"
PRESENCE_KEY = "rt:online:"

FEED_UPDATES = "feed_updates"
NOTIFICATIONS = "notifications"
CHANNELS = frozenset({FEED_UPDATES, NOTIFICATIONS})
# Messages every stream gets, subscribed or not (e.g. "resync").
CONTROL = ""

_FEED_TYPES = frozenset({"new_content", "content_deleted"})

# Presence lookups per Redis call.
_PRESENCE_CHUNK = 1000

Deliver = Callable[[bytes], None]


class Sink(Protocol):
    """An open stream: takes a message for one of its channels, never blocks."""

    user_id: uuid.UUID

    def offer(self, channel: str, data: bytes) -> None: ...


def channel_of(message: dict[str, Any]) -> str:
    """The client channel a message belongs to, from its ``type``."""
    kind = str(message.get("type", ""))
    if kind in _FEED_TYPES:
        return FEED_UPDATES
    if kind.startswith("notification"):
        return NOTIFICATIONS
    return CONTROL


def channel_of_payload(data: bytes) -> str:
    try:
        message = orjson.loads(data)
    except orjson.JSONDecodeError:
        return CONTROL
    return channel_of(message) if isinstance(message, dict) else CONTROL


class LocalHub:
    """Open streams in this process, by user id.

    A subscriber is either a ``Sink`` (a WebSocket stream, which filters by channel) or
    a plain callable that receives every message's JSON bytes.
    """

    def __init__(self) -> None:
        self._subscribers: dict[uuid.UUID, set[Sink | Deliver]] = defaultdict(set)

    def subscribe(self, user_id: uuid.UUID, deliver: Sink | Deliver) -> bool:
        """Add a subscriber; True when it is the user's first in this process."""
        subscribers = self._subscribers[user_id]
        subscribers.add(deliver)
        return len(subscribers) == 1

    def unsubscribe(self, user_id: uuid.UUID, deliver: Sink | Deliver) -> bool:
        """Remove a subscriber; True when the user has none left in this process."""
        subscribers = self._subscribers.get(user_id)
        if subscribers is None:
            return False
        subscribers.discard(deliver)
        if subscribers:
            return False
        del self._subscribers[user_id]
        return True

    def is_connected(self, user_id: uuid.UUID) -> bool:
        return user_id in self._subscribers

    def streams_of(self, user_id: uuid.UUID) -> int:
        return len(self._subscribers.get(user_id, ()))

    def users(self) -> list[uuid.UUID]:
        return list(self._subscribers)

    def sinks(self) -> list[Sink | Deliver]:
        return [s for subscribers in self._subscribers.values() for s in subscribers]

    def deliver(self, user_id: uuid.UUID, data: bytes, channel: str | None = None) -> int:
        subscribers = list(self._subscribers.get(user_id, ()))
        if not subscribers:
            return 0
        if channel is None:
            channel = channel_of_payload(data)
        for subscriber in subscribers:
            offer = getattr(subscriber, "offer", None)
            if offer is not None:
                offer(channel, data)
            else:
                subscriber(data)  # type: ignore[operator]
        return len(subscribers)


local_hub = LocalHub()


def user_channel(user_id: uuid.UUID) -> str:
    return f"{USER_CHANNEL}{user_id}"


def presence_key(user_id: uuid.UUID) -> str:
    return f"{PRESENCE_KEY}{user_id}"


async def publish(redis: Any, user_id: uuid.UUID, message: dict[str, Any]) -> None:
    """Send ``message`` to every open stream of ``user_id`` (no-op when none is open)."""
    await publish_many(redis, [user_id], message)


async def publish_many(redis: Any, user_ids: Iterable[uuid.UUID], message: dict[str, Any]) -> int:
    """Send one message to many users: serialised once, one Redis round trip."""
    ids = list(user_ids)
    if not ids:
        return 0
    data = orjson.dumps(message)
    if redis is None:
        channel = channel_of(message)
        for user_id in ids:
            local_hub.deliver(user_id, data, channel)
        return len(ids)
    pipe = redis.pipeline(transaction=False)
    for user_id in ids:
        pipe.publish(user_channel(user_id), data)
    await pipe.execute()
    return len(ids)


async def connected(redis: Any, user_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """The users among ``user_ids`` with at least one open stream in any process."""
    ids = list(user_ids)
    if redis is None:
        return {u for u in ids if local_hub.is_connected(u)}
    online: set[uuid.UUID] = set()
    for start in range(0, len(ids), _PRESENCE_CHUNK):
        chunk = ids[start : start + _PRESENCE_CHUNK]
        flags = await redis.mget([presence_key(u) for u in chunk])
        online.update(u for u, flag in zip(chunk, flags, strict=True) if flag is not None)
    return online


async def mark_online(redis: Any, user_ids: Iterable[uuid.UUID], ttl_seconds: float) -> None:
    """(Re)start the presence TTL of these users: called on connect and by heartbeats."""
    ids = list(user_ids)
    if redis is None or not ids:
        return
    ttl_ms = max(1, int(ttl_seconds * 1000))
    for start in range(0, len(ids), _PRESENCE_CHUNK):
        pipe = redis.pipeline(transaction=False)
        for user_id in ids[start : start + _PRESENCE_CHUNK]:
            pipe.set(presence_key(user_id), b"1", px=ttl_ms)
        await pipe.execute()
