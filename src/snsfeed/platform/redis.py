"""The Redis client: one multiplexed pool per process, short timeouts so outages fail fast."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from snsfeed.config import Settings


def create_redis(
    settings: Settings, *, socket_timeout: float | None = 1.0, retry_dead: bool = False
) -> Any:
    """A client; ``socket_timeout=None`` is for callers that bound each call themselves.

    (redis-py runs every send under ``asyncio.wait_for`` when a socket timeout is set,
    which costs a task per command: measurable on the feed's hot path.)

    ``retry_dead``: a command that fails on a pooled connection which outlived its server
    (a restart) is retried once on a new connection. Not for clients that subscribe: a
    pub/sub connection retried this way resubscribes silently, and its listener never
    learns that messages were lost meanwhile.
    """
    if not settings.redis_url:
        return None
    # A burst (a thousand streams connecting at once) must queue for a connection, not
    # fail: the blocking pool waits up to ``timeout`` for one to be released.
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=64,
        timeout=2.0,
        **(
            {"retry": Retry(NoBackoff(), 1), "retry_on_error": [aioredis.ConnectionError]}
            if retry_dead
            else {}
        ),
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
