"""Sending a real-time message to a user, wherever their streams are connected.

With Redis, a message goes out on the user's pub/sub channel, so any API process
holding one of the user's sockets receives it; without Redis (embedded profile) the
consumers run inside the API process and deliver through the in-process hub.
``connected`` lets producers skip work for users nobody is streaming to.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import orjson

USER_CHANNEL = "rt:user:"
PRESENCE_KEY = "rt:online:"

Deliver = Callable[[bytes], None]


class LocalHub:
    """Subscribers in this process, by user id."""

    def __init__(self) -> None:
        self._subscribers: dict[uuid.UUID, set[Deliver]] = defaultdict(set)

    def subscribe(self, user_id: uuid.UUID, deliver: Deliver) -> None:
        self._subscribers[user_id].add(deliver)

    def unsubscribe(self, user_id: uuid.UUID, deliver: Deliver) -> None:
        subscribers = self._subscribers.get(user_id)
        if subscribers is not None:
            subscribers.discard(deliver)
            if not subscribers:
                del self._subscribers[user_id]

    def is_connected(self, user_id: uuid.UUID) -> bool:
        return user_id in self._subscribers

    def deliver(self, user_id: uuid.UUID, data: bytes) -> int:
        subscribers = list(self._subscribers.get(user_id, ()))
        for deliver in subscribers:
            deliver(data)
        return len(subscribers)


local_hub = LocalHub()


def user_channel(user_id: uuid.UUID) -> str:
    return f"{USER_CHANNEL}{user_id}"


async def publish(redis: Any, user_id: uuid.UUID, message: dict[str, Any]) -> None:
    """Send ``message`` to every open stream of ``user_id`` (no-op when none is open)."""
    data = orjson.dumps(message)
    if redis is None:
        local_hub.deliver(user_id, data)
        return
    await redis.publish(user_channel(user_id), data)


async def connected(redis: Any, user_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """The users among ``user_ids`` with at least one open stream in any process."""
    ids = list(user_ids)
    if redis is None:
        return {u for u in ids if local_hub.is_connected(u)}
    if not ids:
        return set()
    pipe = redis.pipeline(transaction=False)
    for user_id in ids:
        pipe.exists(f"{PRESENCE_KEY}{user_id}")
    flags = await pipe.execute()
    return {u for u, flag in zip(ids, flags, strict=True) if flag}
