"""Fault tests with real processes: a worker killed mid fan-out, the broker away, Redis away.

Each test runs its own Redis and NATS servers and its own database, and stops every
process it started. They take tens of seconds each.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from datetime import UTC, datetime

import redis.asyncio as aioredis
from sqlalchemy import insert

from snsfeed.config import Settings
from snsfeed.content import service as content
from snsfeed.content.schemas import ContentCreate
from snsfeed.feed.timelines import timeline_key
from snsfeed.graph.models import Follow
from snsfeed.platform.ids import new_id
from snsfeed.runtime import start_runtime, stop_runtime
from snsfeed.users.models import Role, User
from snsfeed.users.schemas import Principal
from tests.e2e.conftest import (
    Cluster,
    eventually,
    follow,
    http,
    register,
    wait_port,
)

FOLLOWERS = 10_000


async def _seed_followers(settings: Settings, redis: aioredis.Redis) -> tuple[uuid.UUID, list[str]]:
    """An author with FOLLOWERS followers, each with a built (active) timeline."""
    author = new_id()
    followers = [new_id() for _ in range(FOLLOWERS)]
    now = datetime.now(UTC)
    runtime = await start_runtime(settings)
    try:
        async with runtime.engine.begin() as conn:
            rows = [
                {
                    "id": uid,
                    "username": f"f{n}",
                    "email": f"f{n}@example.org",
                    "password_hash": "-",
                    "role": "user",
                    "verified": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for n, uid in enumerate([author, *followers])
            ]
            await conn.execute(insert(User), rows)
            await conn.execute(
                insert(Follow),
                [
                    {"follower_id": f, "following_id": author, "seq": new_id(), "created_at": now}
                    for f in followers
                ],
            )
    finally:
        await stop_runtime(runtime)
    keys = [timeline_key(u) for u in [author, *followers]]
    for start in range(0, len(keys), 1000):
        async with redis.pipeline(transaction=False) as pipe:
            for key in keys[start : start + 1000]:
                pipe.zadd(key, {"!": 0})
                pipe.expire(key, 3600)
            await pipe.execute()
    return author, keys


async def _holders(redis: aioredis.Redis, keys: list[str], member: str) -> int:
    count = 0
    for start in range(0, len(keys), 2000):
        async with redis.pipeline(transaction=False) as pipe:
            for key in keys[start : start + 2000]:
                pipe.zscore(key, member)
            count += sum(1 for score in await pipe.execute() if score is not None)
    return count


async def test_worker_killed_mid_fanout_delivers_exactly_once_after_restart(
    cluster: Cluster,
) -> None:
    cluster.redis().start()
    cluster.nats().start()
    wait_port(cluster.redis_port)
    wait_port(cluster.nats_port)
    redis = aioredis.Redis(port=cluster.redis_port)
    settings = cluster.settings()
    author, keys = await _seed_followers(settings, redis)
    slow = {"SNSFEED_FANOUT_BATCH_SIZE": "250", "SNSFEED_FANOUT_PAUSE_SECONDS": "0.05"}
    worker = cluster.worker("worker-1", slow)
    worker.start()

    runtime = await start_runtime(settings)
    try:
        async with runtime.sessionmaker() as session:
            principal = Principal(author, "f0", Role.USER, uuid.uuid4())
            post = await content.create(
                session, settings, principal, ContentCreate(text="big news")
            )
            await session.commit()
    finally:
        await stop_runtime(runtime)
    member = str(post.id)

    # The author's own timeline comes first; wait until followers are being reached.
    await eventually(lambda: _at_least(redis, keys, member, 500), within=60, every=0.05)
    worker.kill9()
    partial = await _holders(redis, keys, member)
    assert 500 <= partial < len(keys), f"kill came too late ({partial} of {len(keys)})"

    cluster.worker("worker-2").start()
    await eventually(lambda: _at_least(redis, keys, member, len(keys)), within=90)
    # A sorted set holds a member once; also no second entry (e.g. a repost) for the post.
    for key in keys[:200]:
        members = [m.decode() for m in await redis.zrange(key, 0, -1)]
        assert sum(1 for m in members if m.split(":")[0] == member) == 1
    await redis.aclose()


async def _at_least(redis: aioredis.Redis, keys: list[str], member: str, n: int) -> bool:
    return await _holders(redis, keys, member) >= n


async def _feed_ids(client: object, headers: dict[str, str]) -> list[str]:
    r = await client.get("/api/v1/feed", params={"size": 50}, headers=headers)  # type: ignore[attr-defined]
    assert r.status_code == 200, r.text
    return [i["id"] for i in r.json()["items"]]


async def test_posts_made_while_nats_is_down_are_delivered_after_it_returns(
    cluster: Cluster,
) -> None:
    cluster.redis().start()
    nats = cluster.nats()
    nats.start()
    wait_port(cluster.redis_port)
    wait_port(cluster.nats_port)
    port = cluster.start_api_and_worker()
    async with http(port) as client:
        _, author = await register(client, "author")
        readers = [await register(client, f"reader{n}") for n in range(3)]
        author_id = (await client.get("/api/v1/users/me", headers=author)).json()["id"]
        for _, headers in readers:
            await follow(client, headers, author_id)
            await _feed_ids(client, headers)  # builds the timeline: fan-out target from now on
        posts = []
        r = await client.post("/api/v1/content", json={"text": "before"}, headers=author)
        posts.append(r.json()["id"])

        nats.signal(signal.SIGTERM)
        assert nats.proc is not None
        nats.proc.wait(timeout=10)
        for n in range(5):  # about 10 s of posting with the broker away
            r = await client.post("/api/v1/content", json={"text": f"during {n}"}, headers=author)
            assert r.status_code == 201, r.text
            posts.append(r.json()["id"])
            await asyncio.sleep(2)
        nats.start()
        wait_port(cluster.nats_port)

        expected = list(reversed(posts))
        for _, headers in readers:
            await eventually(lambda h=headers: _equals(client, h, expected), within=90)
        redis = aioredis.Redis(port=cluster.redis_port)
        for reader_id, _ in readers:
            cached = await redis.zrange(timeline_key(reader_id), 0, -1)
            assert {m.decode() for m in cached} - {"!"} == set(posts)
        await redis.aclose()


async def _equals(client: object, headers: dict[str, str], expected: list[str]) -> bool:
    return await _feed_ids(client, headers) == expected


async def test_feed_and_posting_survive_a_redis_outage_and_timelines_converge(
    cluster: Cluster,
) -> None:
    redis_server = cluster.redis()
    redis_server.start()
    cluster.nats().start()
    wait_port(cluster.redis_port)
    wait_port(cluster.nats_port)
    port = cluster.start_api_and_worker()
    async with http(port) as client:
        _, author = await register(client, "author")
        reader_id, reader = await register(client, "reader")
        author_id = (await client.get("/api/v1/users/me", headers=author)).json()["id"]
        await follow(client, reader, author_id)
        first = (await client.post("/api/v1/content", json={"text": "one"}, headers=author)).json()
        await eventually(lambda: _equals(client, reader, [first["id"]]), within=30)

        redis_server.stop()
        assert await _feed_ids(client, reader) == [first["id"]]  # answered from SQL
        r = await client.post("/api/v1/content", json={"text": "two"}, headers=author)
        assert r.status_code == 201, r.text
        second = r.json()
        assert await _feed_ids(client, reader) == [second["id"], first["id"]]

        redis_server.start()
        wait_port(cluster.redis_port)
        await eventually(lambda: _equals(client, reader, [second["id"], first["id"]]), within=30)
        redis = aioredis.Redis(port=cluster.redis_port)
        await eventually(lambda: redis.exists(timeline_key(reader_id)), within=30)
        third = (
            await client.post("/api/v1/content", json={"text": "three"}, headers=author)
        ).json()
        expected = [third["id"], second["id"], first["id"]]
        await eventually(lambda: _equals(client, reader, expected), within=30)
        cached = {m.decode() for m in await redis.zrange(timeline_key(reader_id), 0, -1)}
        assert cached - {"!"} == set(expected)
        await redis.aclose()


async def test_api_and_worker_start_while_the_broker_is_down(cluster: Cluster) -> None:
    cluster.redis().start()
    wait_port(cluster.redis_port)
    port = cluster.start_api_and_worker()  # answers although NATS has not started yet
    async with http(port) as client:
        _, author = await register(client, "author")
        reader_id, reader = await register(client, "reader")
        author_id = (await client.get("/api/v1/users/me", headers=author)).json()["id"]
        await follow(client, reader, author_id)
        await _feed_ids(client, reader)
        r = await client.post("/api/v1/content", json={"text": "queued"}, headers=author)
        assert r.status_code == 201, r.text
        cluster.nats().start()
        wait_port(cluster.nats_port)
        redis = aioredis.Redis(port=cluster.redis_port)
        await eventually(lambda: redis.zscore(timeline_key(reader_id), r.json()["id"]), within=60)
        await redis.aclose()
