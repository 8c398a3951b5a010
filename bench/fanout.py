"""Fan-out benchmark: one post to N followers' Redis timelines.

Measured: the ``timelines`` consumer handling ``content.created`` end to end (follower
ids from PostgreSQL, Lua fan-out in batches) against a baseline measured in the same
run on the same Redis: one server-side script doing the same ZADD + trim on all N
timelines in a single call (the Redis-bound limit). Reports deliveries/s and the ratio.

    uv run python bench/fanout.py --followers 10000 --posts 5
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime

import asyncpg
import redis.asyncio as aioredis
from sqlalchemy import insert

from snsfeed.config import Settings
from snsfeed.content import service as content
from snsfeed.content.schemas import ContentCreate
from snsfeed.feed.consumers import on_content_created
from snsfeed.feed.timelines import _FANOUT_LUA, Entry, TimelineStore, timeline_key
from snsfeed.graph.models import Follow
from snsfeed.platform.bus.consumer import ConsumerContext
from snsfeed.platform.bus.envelope import Event
from snsfeed.platform.db import create_engine, create_sessionmaker
from snsfeed.platform.ids import new_id
from snsfeed.platform.migrations import upgrade_to_head
from snsfeed.users.models import Role, User
from snsfeed.users.schemas import Principal

PG = "postgresql://postgres@127.0.0.1:5432/test"


async def setup_graph(url: str, followers: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    engine = create_engine(url)
    author = new_id()
    ids = [new_id() for _ in range(followers)]
    now = datetime.now(UTC)

    def user(uid: uuid.UUID, n: int) -> dict[str, object]:
        return {
            "id": uid,
            "username": f"b{n}",
            "email": f"b{n}@bench.invalid",
            "password_hash": "x",
            "role": "user",
            "verified": False,
            "created_at": now,
            "updated_at": now,
        }

    async with engine.begin() as conn:
        await conn.execute(
            insert(User), [user(author, 0)] + [user(u, i + 1) for i, u in enumerate(ids)]
        )
        await conn.execute(
            insert(Follow),
            [
                {"follower_id": u, "following_id": author, "seq": new_id(), "created_at": now}
                for u in ids
            ],
        )
    await engine.dispose()
    return author, ids


async def main(followers: int, posts: int, redis_url: str, args_profile: bool = False) -> None:
    admin = await asyncpg.connect(PG)
    dbname = f"snsfeed_bench_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{dbname}"')
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{dbname}"
    redis = aioredis.Redis.from_url(redis_url)
    prefix_keys: list[str] = []
    try:
        await asyncio.to_thread(upgrade_to_head, url)
        author, ids = await setup_graph(url, followers)
        settings = Settings(database_url=url, redis_url=redis_url, hot_account_followers=10**9)
        engine = create_engine(url)
        ctx = ConsumerContext(settings, create_sessionmaker(engine), redis)
        store = TimelineStore(redis, cap=settings.timeline_cap, ttl_seconds=3600)
        for uid in [author, *ids]:
            await store.begin_build(uid)
            await store.finish_build(uid, [])
        prefix_keys = [timeline_key(u) for u in [author, *ids]]

        measured = []
        author_principal = Principal(author, "b0", Role.USER, uuid.uuid4())
        for n in range(posts):
            async with ctx.sessionmaker() as session:
                data = ContentCreate(text=f"benchmark post {n}")
                post = await content.create(session, settings, author_principal, data)
                await session.commit()
            event = Event(
                id=new_id(),
                type="content.created",
                version=1,
                occurred_at=datetime.now(UTC),
                actor_id=author,
                key=str(post.id),
                payload={
                    "content_id": str(post.id),
                    "author_id": str(author),
                    "visibility": "public",
                    "created_at": post.created_at.isoformat(),
                },
            )
            start = time.perf_counter()
            async with ctx.sessionmaker() as session:
                if args_profile and n == posts - 1:
                    import cProfile
                    import pstats

                    profiler = cProfile.Profile()
                    profiler.enable()
                    await on_content_created(session, event, ctx)
                    profiler.disable()
                    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
                else:
                    await on_content_created(session, event, ctx)
            measured.append((followers + 1) / (time.perf_counter() - start))

        script = redis.register_script(_FANOUT_LUA)
        baseline = []
        for _ in range(posts):
            entry = Entry(new_id(), int(time.time() * 1000))
            start = time.perf_counter()
            await script(keys=prefix_keys, args=[entry.score, entry.member, settings.timeline_cap])
            baseline.append(len(prefix_keys) / (time.perf_counter() - start))

        ours, raw = statistics.median(measured), statistics.median(baseline)
        print(f"followers={followers} posts={posts}")
        print(f"consumer fan-out : {ours:10.0f} deliveries/s (median)")
        print(f"raw Redis script : {raw:10.0f} deliveries/s (median, one EVAL over all keys)")
        print(f"ratio            : {ours / raw:.2f} (goal >= 0.7)")
        await engine.dispose()
    finally:
        for start in range(0, len(prefix_keys), 1000):
            await redis.delete(*prefix_keys[start : start + 1000])
        await redis.aclose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=5)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--profile", action="store_true", help="also time the follower query")
    args = parser.parse_args()
    asyncio.run(main(args.followers, args.posts, args.redis, args.profile))
