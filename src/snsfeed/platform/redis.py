"""The Redis client: one multiplexed pool per process, short timeouts so outages fail fast."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from snsfeed.config import Settings


def create_redis(settings: Settings, *, socket_timeout: float | None = 1.0) -> Any:
    """A client; ``socket_timeout=None`` is for callers that bound each call themselves.

    (redis-py runs every send under ``asyncio.wait_for`` when a socket timeout is set,
    which costs a task per command: measurable on the feed's hot path.)
    """
    if not settings.redis_url:
        return None
    return aioredis.Redis.from_url(
        settings.redis_url,
        socket_timeout=socket_timeout,
        socket_connect_timeout=1.0,
        health_check_interval=15,
        max_connections=64,
        decode_responses=False,
    )


# Errors that mean "Redis is not usable right now": callers fall back to SQL.
REDIS_ERRORS: tuple[type[BaseException], ...] = (
    aioredis.ConnectionError,
    aioredis.TimeoutError,
    ConnectionError,
    TimeoutError,
    OSError,
)
