"""The near cache against real Redis: two instances stand for two processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from snsfeed.platform.cache import TOMBSTONE_SECONDS, NearCache, jittered
from snsfeed.platform.redis import create_redis
from tests.conftest import REDIS_TEST_URL, base_settings


@pytest.fixture
async def two_processes(redis_client: Any) -> AsyncIterator[tuple[NearCache, NearCache]]:
    first, second = NearCache(redis_client), NearCache(redis_client)
    for near in (first, second):
        near.start_listener()
    # A subscription is live once Redis counts both subscribers on the channel.
    for _ in range(100):
        counts = dict(await redis_client.pubsub_numsub("cache:invalidate"))
        if counts.get(b"cache:invalidate") == 2:
            break
        await asyncio.sleep(0.02)
    yield first, second
    for near in (first, second):
        await near.stop_listener()


async def _eventually_absent(near: NearCache, key: str) -> bool:
    for _ in range(100):
        if near.get_local(key) is None:
            return True
        await asyncio.sleep(0.02)
    return False


async def test_a_value_stored_by_one_process_is_read_by_another_from_redis(
    two_processes: tuple[NearCache, NearCache],
) -> None:
    first, second = two_processes
    await first.put_many({"c:post:1": {"text": "hello"}}, since_epoch=first.epoch)
    assert second.get_local("c:post:1") is None
    assert await second.get_many(["c:post:1", "c:post:2"]) == {"c:post:1": {"text": "hello"}}
    assert second.get_local("c:post:1") == {"text": "hello"}


async def test_invalidation_reaches_the_other_processes_memory(
    two_processes: tuple[NearCache, NearCache],
) -> None:
    first, second = two_processes
    await first.put_many({"c:post:1": {"likes": 1}}, since_epoch=first.epoch)
    await second.get_many(["c:post:1"])
    assert second.get_local("c:post:1") == {"likes": 1}
    await first.invalidate(["c:post:1"])
    assert first.get_local("c:post:1") is None
    assert await _eventually_absent(second, "c:post:1")
    assert await second.get_many(["c:post:1"]) == {}


async def test_a_reader_that_loaded_before_an_invalidation_cannot_store_its_stale_value(
    redis_client: Any,
) -> None:
    writer, reader = NearCache(redis_client), NearCache(redis_client)
    started = reader.epoch  # the reader loads from SQL here …
    await writer.invalidate(["c:post:1"])  # … a writer commits and invalidates …
    await reader.put_many({"c:post:1": {"likes": 0}}, since_epoch=started)  # … stale fill
    assert await redis_client.get("c:post:1") == b""
    assert await NearCache(redis_client).get_many(["c:post:1"]) == {}
    assert 0 < await redis_client.ttl("c:post:1") <= TOMBSTONE_SECONDS


async def test_local_fills_started_before_a_local_invalidation_are_not_kept() -> None:
    near = NearCache()
    started = near.epoch
    await near.invalidate(["c:user:1"])
    await near.put_many({"c:user:1": {"username": "old"}}, since_epoch=started)
    assert near.get_local("c:user:1") is None
    await near.put_many({"c:user:1": {"username": "new"}}, since_epoch=near.epoch)
    assert near.get_local("c:user:1") == {"username": "new"}


async def test_values_expire_from_redis(redis_client: Any) -> None:
    near = NearCache(redis_client, l2_ttl_seconds=120)
    await near.put_many({"c:post:9": {"text": "x"}}, since_epoch=near.epoch)
    assert 0 < await redis_client.ttl("c:post:9") <= 120


async def test_redis_outage_is_a_cache_miss_not_an_error() -> None:
    unreachable = aioredis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    near = NearCache(unreachable)
    try:
        await near.put_many({"c:post:1": {"text": "x"}}, since_epoch=near.epoch)
        near.clear_local()
        assert await near.get_many(["c:post:1"]) == {}
        await near.invalidate(["c:post:1"])
    finally:
        await unreachable.aclose()


async def test_a_replaced_value_keeps_its_expiry(redis_client: Any) -> None:
    near = NearCache(redis_client, l2_ttl_seconds=300)
    await near.put_many({"c:engaged:1": {"a": 1}}, since_epoch=near.epoch, replace=True)
    await redis_client.expire("c:engaged:1", 50)
    await near.put_many({"c:engaged:1": {"a": 1, "b": 0}}, since_epoch=near.epoch, replace=True)
    assert 0 < await redis_client.ttl("c:engaged:1") <= 50
    assert await NearCache(redis_client).get_many(["c:engaged:1"]) == {
        "c:engaged:1": {"a": 1, "b": 0}
    }


async def test_a_replace_never_overwrites_a_tombstone(redis_client: Any) -> None:
    near = NearCache(redis_client)
    await near.invalidate(["c:engaged:1"])
    await near.put_many({"c:engaged:1": {"a": 1}}, since_epoch=0, replace=True)
    assert await redis_client.get("c:engaged:1") == b""


def test_lifetimes_are_spread_so_entries_filled_together_do_not_expire_together() -> None:
    lifetimes = [jittered(30.0) for _ in range(200)]
    assert all(24.0 <= t <= 30.0 for t in lifetimes)
    assert max(lifetimes) - min(lifetimes) > 3.0


async def test_losing_the_invalidation_channel_clears_memory(
    redis_client: Any, tmp_path: Path
) -> None:
    # The runtime's client must not resubscribe behind the listener's back: messages sent
    # while it was away are lost, and only clearing L1 makes up for them.
    client = create_redis(base_settings(tmp_path, redis_url=REDIS_TEST_URL))
    near = NearCache(client)
    near.start_listener()
    try:
        db = int(REDIS_TEST_URL.rsplit("/", 1)[1])
        listening: list[dict[str, Any]] = []
        for _ in range(100):
            clients = await redis_client.client_list()
            listening = [c for c in clients if int(c["db"]) == db and int(c["sub"]) > 0]
            if listening:
                break
            await asyncio.sleep(0.02)
        assert len(listening) == 1
        await asyncio.sleep(0.1)  # past the listener's own clearing when it subscribes
        await near.put_many({"c:post:1": {"likes": 0}}, since_epoch=near.epoch)
        assert near.get_local("c:post:1") == {"likes": 0}
        await redis_client.client_kill_filter(_id=listening[0]["id"])
        assert await _eventually_absent(near, "c:post:1")
    finally:
        await near.stop_listener()
        await client.aclose()
