"""Timeline reads a process remembers until Redis reports a change (``keywatch``).

The store under test reads through a tracked reader; "another process" is a plain
client writing to the same Redis, and this process's own writes go through a second
store without a reader (as the consumers' store does).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from snsfeed.feed.timelines import HOT_ACCOUNTS_KEY, Entry, TimelineStore, timeline_key
from snsfeed.platform import keywatch
from snsfeed.platform.ids import new_id
from snsfeed.platform.keywatch import KeyWatch, TrackedReader
from tests.conftest import REDIS_TEST_URL
from tests.helpers import eventually

TTL = 7 * 86400


@pytest.fixture
async def watch(redis_client: Any) -> AsyncIterator[KeyWatch]:
    w = KeyWatch(REDIS_TEST_URL)
    previous = keywatch.current()  # a test app's, when one runs in this process
    keywatch.install(w)
    w.start()
    await eventually(lambda: w.active, within=3)
    yield w
    await w.stop()
    keywatch.install(previous)


@pytest.fixture
async def reading(redis_client: Any, watch: KeyWatch) -> AsyncIterator[TimelineStore]:
    tracked = TrackedReader(REDIS_TEST_URL, watch)
    yield TimelineStore(redis_client, cap=50, ttl_seconds=TTL, tracked=tracked)
    await tracked.aclose()


@pytest.fixture
def writing(redis_client: Any) -> TimelineStore:
    return TimelineStore(redis_client, cap=50, ttl_seconds=TTL)


async def a_built_timeline(store: TimelineStore, posts: int = 3) -> Any:
    user = new_id()
    assert await store.begin_build(user)
    await store.finish_build(user, [Entry(new_id(), 1000 + n) for n in range(posts)])
    return user


async def test_an_unchanged_page_is_answered_from_memory(
    reading: TimelineStore, writing: TimelineStore
) -> None:
    user = await a_built_timeline(writing)
    first = await reading.read_page(user, None, 10)
    assert first is not None
    assert reading.remembered_page(user, None, 10) is first
    # Another read gives the very object remembered: nothing was read or parsed again.
    assert await reading.read_page(user, None, 10) is first


async def test_a_page_read_with_other_bounds_is_not_taken_for_it(
    reading: TimelineStore, writing: TimelineStore
) -> None:
    user = await a_built_timeline(writing)
    await reading.read_page(user, None, 10)
    assert reading.remembered_page(user, None, 2) is None
    assert reading.remembered_page(user, 1002, 10) is None


async def test_this_process_writing_drops_the_page_at_once(
    reading: TimelineStore, writing: TimelineStore
) -> None:
    user = await a_built_timeline(writing)
    await reading.read_page(user, None, 10)
    post = new_id()
    await writing.fan_out([user], Entry(post, 5000), batch=10)
    assert reading.remembered_page(user, None, 10) is None  # no waiting for Redis
    page = await reading.read_page(user, None, 10)
    assert page is not None
    assert page.entries[0].post_id == post


async def test_another_process_writing_drops_the_page(
    reading: TimelineStore, writing: TimelineStore, redis_client: Any
) -> None:
    user = await a_built_timeline(writing)
    await reading.read_page(user, None, 10)
    post = new_id()
    await redis_client.zadd(timeline_key(user), {str(post): 6000})
    await eventually(lambda: reading.remembered_page(user, None, 10) is None, within=3)
    page = await reading.read_page(user, None, 10)
    assert page is not None
    assert page.entries[0].post_id == post


async def test_a_new_hot_account_drops_every_page(
    reading: TimelineStore, writing: TimelineStore, redis_client: Any
) -> None:
    user = await a_built_timeline(writing)
    await reading.read_page(user, None, 10)
    hot = new_id()
    await redis_client.sadd(HOT_ACCOUNTS_KEY, str(hot))
    await eventually(lambda: reading.remembered_page(user, None, 10) is None, within=3)
    page = await reading.read_page(user, None, 10)
    assert page is not None
    assert hot in page.hot_accounts


async def test_a_remembered_page_is_read_again_after_a_while(
    reading: TimelineStore, writing: TimelineStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await a_built_timeline(writing)
    monkeypatch.setattr("snsfeed.feed.timelines.REMEMBER_SECONDS", 0.05)
    await reading.read_page(user, None, 10)
    await asyncio.sleep(0.1)
    assert reading.remembered_page(user, None, 10) is None


async def test_an_absent_timeline_is_not_remembered(reading: TimelineStore) -> None:
    user = new_id()
    assert await reading.read_page(user, None, 10) is None
    assert reading.remembered_page(user, None, 10) is None


async def test_reading_renews_a_run_down_expiry(
    reading: TimelineStore, writing: TimelineStore, redis_client: Any
) -> None:
    user = await a_built_timeline(writing)
    await redis_client.expire(timeline_key(user), 600)
    await reading.read_page(user, None, 10)
    assert await redis_client.ttl(timeline_key(user)) > TTL - 60


async def test_reading_a_fresh_timeline_leaves_its_expiry_alone(
    reading: TimelineStore, writing: TimelineStore, redis_client: Any
) -> None:
    # A renewal is a write: every process remembering the timeline would drop it.
    user = await a_built_timeline(writing)
    fresh = TTL - 100
    await redis_client.expire(timeline_key(user), fresh)
    await reading.read_page(user, None, 10)
    assert fresh - 5 <= await redis_client.ttl(timeline_key(user)) <= fresh
