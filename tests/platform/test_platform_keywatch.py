"""Client-side caching through Redis's own tracking: what a process may keep, and when not.

Against a real Redis: reads go through a ``TrackedReader``, writes come from another
client (another process, as far as Redis can tell), and the watch must hear of them.
Key names are unique per test: Redis tracks names across all its databases.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from snsfeed.platform import keywatch
from snsfeed.platform.keywatch import KeyWatch, Stamp, TrackedReader
from tests.conftest import REDIS_TEST_URL
from tests.helpers import eventually

GET = "return redis.call('GET', KEYS[1])"
_RUN = uuid.uuid4().hex
K, ABSENT, KEPT, OTHER, MARKER = (
    f"{name}:{_RUN}" for name in ("k", "absent", "kept", "other", "marker")
)


@pytest.fixture
async def watch(redis_client: Any) -> AsyncIterator[KeyWatch]:
    w = KeyWatch(REDIS_TEST_URL)
    w.start()
    await eventually(lambda: w.active, within=3)
    yield w
    await w.stop()


@pytest.fixture
async def reader(watch: KeyWatch) -> AsyncIterator[TrackedReader]:
    r = TrackedReader(REDIS_TEST_URL, watch)
    yield r
    await r.aclose()


async def read(reader: TrackedReader, redis: Any, key: str) -> tuple[Any, Stamp | None]:
    result: tuple[Any, Stamp | None] = await reader.evalsha(redis.register_script(GET), [key], [])
    return result


async def test_a_read_stays_trusted_while_nobody_writes(
    reader: TrackedReader, watch: KeyWatch, redis_client: Any
) -> None:
    await redis_client.set(K, "v")
    value, stamp = await read(reader, redis_client, K)
    assert value == b"v"
    assert stamp is not None
    await asyncio.sleep(0.2)
    assert watch.unchanged([K], stamp)


async def test_a_write_by_another_client_is_reported(
    reader: TrackedReader, watch: KeyWatch, redis_client: Any
) -> None:
    await redis_client.set(K, "v")
    _, stamp = await read(reader, redis_client, K)
    await redis_client.set(K, "w")
    await eventually(lambda: not watch.unchanged([K], stamp), within=3)


async def test_creating_a_key_that_was_read_as_missing_is_reported(
    reader: TrackedReader, watch: KeyWatch, redis_client: Any
) -> None:
    value, stamp = await read(reader, redis_client, ABSENT)
    assert value is None
    await redis_client.set(ABSENT, "now here")
    await eventually(lambda: not watch.unchanged([ABSENT], stamp), within=3)


async def test_a_write_to_another_key_leaves_the_read_trusted(
    reader: TrackedReader, watch: KeyWatch, redis_client: Any
) -> None:
    await redis_client.mset({KEPT: "1", OTHER: "2", MARKER: "3"})
    _, kept = await read(reader, redis_client, KEPT)
    _, other = await read(reader, redis_client, OTHER)
    _, marker = await read(reader, redis_client, MARKER)
    await redis_client.set(OTHER, "changed")
    await redis_client.set(MARKER, "changed")
    # Invalidations arrive in order on one connection: once the marker's has, so has
    # everything sent before it.
    await eventually(lambda: not watch.unchanged([MARKER], marker), within=3)
    assert not watch.unchanged([OTHER], other)
    assert watch.unchanged([KEPT], kept)


async def test_a_flush_forgets_everything(
    reader: TrackedReader, watch: KeyWatch, redis_client: Any
) -> None:
    await redis_client.set(K, "v")
    _, stamp = await read(reader, redis_client, K)
    await redis_client.flushdb()
    await eventually(lambda: not watch.unchanged([K], stamp), within=3)


async def test_a_change_reported_while_a_read_was_in_flight_voids_it(watch: KeyWatch) -> None:
    # The stamp is taken before the read is sent; a report that arrives before the
    # read's reply (a write right after the read) must still void what was read.
    stamp = watch.stamp([K])
    watch.changed([K])
    assert not watch.unchanged([K], stamp)


async def test_losing_the_listener_forgets_everything_and_tracking_follows_the_new_one(
    reader: TrackedReader, watch: KeyWatch, redis_client: Any
) -> None:
    await redis_client.set(K, "v")
    _, before = await read(reader, redis_client, K)
    lost = watch.redirect_id
    await redis_client.client_kill_filter(_id=lost)
    await eventually(lambda: watch.active and watch.redirect_id != lost, within=3)
    assert not watch.unchanged([K], before)
    # The same connection reads again: it must now be tracked for the new listener,
    # or this write would never be reported.
    _, after = await read(reader, redis_client, K)
    assert after is not None
    await redis_client.set(K, "w")
    await eventually(lambda: not watch.unchanged([K], after), within=3)


async def test_without_a_listener_nothing_is_trusted(redis_client: Any) -> None:
    idle = KeyWatch(REDIS_TEST_URL)  # never started
    untracked = TrackedReader(REDIS_TEST_URL, idle)
    try:
        await redis_client.set(K, "v")
        value, stamp = await read(untracked, redis_client, K)
    finally:
        await untracked.aclose()
    assert value == b"v"
    assert stamp is None
    assert not idle.unchanged([K], stamp)


async def test_a_stopped_watch_trusts_nothing_it_read(
    reader: TrackedReader, watch: KeyWatch, redis_client: Any
) -> None:
    await redis_client.set(K, "v")
    _, stamp = await read(reader, redis_client, K)
    await watch.stop()
    assert not watch.active
    assert not watch.unchanged([K], stamp)


async def test_too_many_changed_keys_forget_everything_at_once(
    watch: KeyWatch, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keywatch, "MAX_CHANGED_KEYS", 3)
    stamp = watch.stamp(["quiet"])
    watch.changed(["a", "b", "c"])
    assert watch.unchanged(["quiet"], stamp)
    watch.changed(["d"])  # over the bound: everything is forgotten, quiet keys included
    assert not watch.unchanged(["quiet"], stamp)


async def test_a_script_missing_from_the_server_is_sent_whole(
    reader: TrackedReader, redis_client: Any
) -> None:
    await redis_client.set(K, "v")
    await redis_client.script_flush()
    value, _ = await read(reader, redis_client, K)
    assert value == b"v"


async def test_a_read_survives_its_connection_being_closed_by_the_server(
    reader: TrackedReader, watch: KeyWatch, redis_client: Any
) -> None:
    # As after a Redis restart: idle connections are dead, the next read must not fail.
    await redis_client.set(K, "v")
    await read(reader, redis_client, K)
    for client in await redis_client.client_list():
        if client["name"] == keywatch.CLIENT_NAME:
            await redis_client.client_kill_filter(_id=client["id"])
    value, stamp = await read(reader, redis_client, K)
    assert value == b"v"
    await redis_client.set(K, "w")  # and the new connection is tracked
    await eventually(lambda: not watch.unchanged([K], stamp), within=3)


async def test_a_url_that_sets_timeouts_itself_still_gets_a_listener(redis_client: Any) -> None:
    w = KeyWatch(f"{REDIS_TEST_URL}?socket_timeout=5&socket_connect_timeout=2")
    w.start()
    try:
        await eventually(lambda: w.active, within=3)
    finally:
        await w.stop()
