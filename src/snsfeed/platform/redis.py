"""The Redis client: one multiplexed pool per process, short timeouts so outages fail fast."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from snsfeed.config import Settings


def create_redis(settings: Settings) -> Any:
    if not settings.redis_url:
        return None
    return aioredis.Redis.from_url(
        settings.redis_url,
        socket_timeout=1.0,
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
