"""The Redis client: one multiplexed pool per process, short timeouts so outages fail fast."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from snsfeed.config import Settings


def create_redis(settings: Settings, *, socket_timeout: float | None = 1.0) -> Any:
    """A client; ``socket_timeout=None`` is for callers that bound each call themselves.

    (redis-py runs every send under ``asyncio.wait_for`` when a socket timeout is set,
    which costs a task per command: measurable on the feed's hot path.)
    """
    if not settings.redis_url:
        return None
    # A burst (a thousand streams connecting at once) must queue for a connection, not
    # fail: the blocking pool waits up to ``timeout`` for one to be released.
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=64,
        timeout=2.0,
        # A pooled connection can outlive its server (a restart): the first command on it
        # fails, and is retried once on a new connection. (redis-py's own clients retry by
        # default; connections of a pool made like this one do not, unless told.)
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[aioredis.ConnectionError],
        socket_timeout=socket_timeout,
        socket_connect_timeout=1.0,
        health_check_interval=15,
        decode_responses=False,
    )
    return aioredis.Redis.from_pool(pool)


# Errors that mean "Redis is not usable right now": callers fall back to SQL.
REDIS_ERRORS: tuple[type[BaseException], ...] = (
    # Also server-side refusals (READONLY during a failover, OOM): Redis cannot serve.
    aioredis.RedisError,
    aioredis.ConnectionError,
    aioredis.TimeoutError,
    ConnectionError,
    TimeoutError,
    OSError,
)
