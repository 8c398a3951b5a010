"""Redis fixtures for timeline tests (a dedicated database index, flushed per test)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from tests.conftest import service_unavailable

REDIS_TEST_URL = os.environ.get("SNSFEED_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


@pytest.fixture
async def redis_client() -> AsyncIterator[Any]:
    client = aioredis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1)
    try:
        await client.ping()
    except (aioredis.ConnectionError, OSError):
        await client.aclose()
        service_unavailable("Redis")
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()
