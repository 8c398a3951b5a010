"""The Redis timeline store: build markers, fan-out to built timelines only, cap, reads."""

from __future__ import annotations

import uuid
from typing import Any

from snsfeed.feed.timelines import Entry, TimelineStore, timeline_key
from snsfeed.platform.ids import new_id


def store(redis: Any, cap: int = 5) -> TimelineStore:
    return TimelineStore(redis, cap=cap, ttl_seconds=3600)


async def built(s: TimelineStore, *users: uuid.UUID) -> None:
    for user in users:
        assert await s.begin_build(user)
        await s.finish_build(user, [])


async def test_fan_out_reaches_only_built_timelines(redis_client: Any) -> None:
    s = store(redis_client)
    active, absent = new_id(), new_id()
    await built(s, active)
    delivered = await s.fan_out([active, absent], Entry(new_id(), 1000), batch=10)
    assert delivered == 1
    assert not await redis_client.exists(timeline_key(absent))


async def test_timeline_keeps_only_the_newest_cap_entries(redis_client: Any) -> None:
    s = store(redis_client, cap=3)
    user = new_id()
    await built(s, user)
    posts = [new_id() for _ in range(5)]
    for n, post in enumerate(posts):
        await s.fan_out([user], Entry(post, 1000 + n), batch=10)
    result = await s.read(user, None, 10)
    assert result is not None
    entries, full = result
    assert [e.post_id for e in entries] == posts[::-1][:3]
    assert full


async def test_absent_timeline_reads_as_none(redis_client: Any) -> None:
    assert await store(redis_client).read(new_id(), None, 10) is None


async def test_timeline_under_construction_reads_as_none(redis_client: Any) -> None:
    s = store(redis_client)
    user = new_id()
    assert await s.begin_build(user)
    assert await s.read(user, None, 10) is None
    assert not await s.begin_build(user)


async def test_fan_out_during_a_build_is_kept(redis_client: Any) -> None:
    s = store(redis_client)
    user = new_id()
    await s.begin_build(user)
    late = Entry(new_id(), 5000)
    await s.fan_out([user], late, batch=10)
    snapshot = Entry(new_id(), 4000)
    await s.finish_build(user, [snapshot])
    result = await s.read(user, None, 10)
    assert result is not None
    assert [e.post_id for e in result[0]] == [late.post_id, snapshot.post_id]


async def test_read_below_a_score_is_exclusive(redis_client: Any) -> None:
    s = store(redis_client)
    user = new_id()
    entries = [Entry(new_id(), score) for score in (100, 200, 300)]
    await s.begin_build(user)
    await s.finish_build(user, entries)
    result = await s.read(user, 300, 10)
    assert result is not None
    assert [e.score for e in result[0]] == [200, 100]


async def test_repost_entries_name_the_sharer(redis_client: Any) -> None:
    s = store(redis_client)
    user, sharer, post = new_id(), new_id(), new_id()
    await built(s, user)
    await s.fan_out([user], Entry(post, 100, shared_by=sharer), batch=10)
    result = await s.read(user, None, 10)
    assert result is not None
    assert result[0] == [Entry(post, 100, shared_by=sharer)]


async def test_remove_posts_drops_originals_and_reposts(redis_client: Any) -> None:
    s = store(redis_client)
    user, post, other = new_id(), new_id(), new_id()
    await s.begin_build(user)
    await s.finish_build(
        user, [Entry(post, 100), Entry(post, 200, shared_by=new_id()), Entry(other, 150)]
    )
    await s.remove_posts(user, [post])
    result = await s.read(user, None, 10)
    assert result is not None
    assert [e.post_id for e in result[0]] == [other]


async def test_remove_by_sharer_keeps_the_original(redis_client: Any) -> None:
    s = store(redis_client)
    user, post, sharer = new_id(), new_id(), new_id()
    await s.begin_build(user)
    await s.finish_build(user, [Entry(post, 100), Entry(post, 200, shared_by=sharer)])
    await s.remove_by_sharer(user, sharer)
    result = await s.read(user, None, 10)
    assert result is not None
    assert result[0] == [Entry(post, 100)]


async def test_hot_author_posts_are_read_per_author(redis_client: Any) -> None:
    s = store(redis_client)
    author = new_id()
    entries = [Entry(new_id(), score) for score in (10, 20, 30)]
    for entry in entries:
        await s.add_author_post(author, entry)
    read = await s.read_author_posts([author], 30, 10)
    assert sorted(e.score for e in read) == [10, 20]


async def test_reading_refreshes_the_expiry(redis_client: Any) -> None:
    s = TimelineStore(redis_client, cap=5, ttl_seconds=1000)
    user = new_id()
    await built(s, user)
    await redis_client.expire(timeline_key(user), 10)
    await s.read(user, None, 10)
    assert await redis_client.ttl(timeline_key(user)) > 10
