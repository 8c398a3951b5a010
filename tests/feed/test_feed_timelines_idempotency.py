"""Timelines converge: any redelivery and reordering of the events leaves the same state.

A random history of posts, follows, blocks and shares is written through the services
(so the outbox holds the real events); the ``timelines`` consumer then applies the
events once in order, and again shuffled with duplicates, against real Redis. Both
runs must leave identical timelines.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from snsfeed.content import service as content
from snsfeed.content.schemas import ContentCreate
from snsfeed.engagement import service as engagement
from snsfeed.feed.consumers import TIMELINES, store_for
from snsfeed.feed.timelines import author_posts_key, timeline_key
from snsfeed.graph import service as graph
from snsfeed.platform.bus.envelope import Event
from snsfeed.platform.outbox import OutboxEvent
from snsfeed.platform.security import make_password_hasher
from snsfeed.runtime import Runtime, start_runtime, stop_runtime
from snsfeed.users import service as users
from snsfeed.users.models import Role
from snsfeed.users.schemas import Principal, RegisterRequest
from tests.conftest import REDIS_TEST_URL, base_settings

USERS = 4
Action = tuple[str, int, int]

actions = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "post",
                "post_followers",
                "post_private",
                "follow",
                "unfollow",
                "block",
                "unblock",
                "share",
                "unshare",
                "delete",
            ]
        ),
        st.integers(0, USERS - 1),
        st.integers(0, 11),
    ),
    min_size=1,
    max_size=25,
)


async def _history(runtime: Runtime, steps: list[Action]) -> list[uuid.UUID]:
    hasher = make_password_hasher(runtime.settings)
    people: list[Principal] = []
    async with runtime.sessionmaker() as session:
        for n in range(USERS):
            name = f"p{n}_{uuid.uuid4().hex[:8]}"
            user = await users.register(
                session,
                hasher,
                RegisterRequest(username=name, email=f"{name}@example.org", password="password1"),
            )
            people.append(Principal(user.id, user.username, Role.USER, uuid.uuid4()))
        await session.commit()
    posts: list[uuid.UUID] = []
    for kind, who, arg in steps:
        actor = people[who]
        other = people[arg % USERS]
        async with runtime.sessionmaker() as session:
            try:
                if kind.startswith("post"):
                    visibility = {"post": "public"}.get(kind, kind.removeprefix("post_"))
                    data = ContentCreate(text=f"post {len(posts)}", visibility=visibility)
                    posts.append((await content.create(session, runtime.settings, actor, data)).id)
                elif kind in ("follow", "unfollow", "block", "unblock"):
                    await getattr(graph, kind)(session, actor.id, other.id)
                elif kind in ("share", "unshare", "delete") and posts:
                    post = posts[arg % len(posts)]
                    if kind == "delete":
                        await content.delete(session, actor, post)
                    else:
                        await getattr(engagement, kind)(session, actor, post)
                await session.commit()
            except Exception:  # refused actions (403/404 …) are part of a random history
                await session.rollback()
    return [p.id for p in people]


async def _events(runtime: Runtime) -> list[Event]:
    async with runtime.sessionmaker() as session:
        rows = (await session.execute(select(OutboxEvent).order_by(OutboxEvent.seq))).scalars()
        return [Event.from_outbox(r) for r in rows if TIMELINES.wants(r.type)]


async def _apply(runtime: Runtime, people: list[uuid.UUID], events: list[Event]) -> dict[str, Any]:
    ctx = runtime.consumer_context
    ctx.redis = runtime.redis
    store = store_for(ctx)
    keys = [timeline_key(p) for p in people] + [author_posts_key(p) for p in people]
    await runtime.redis.delete(*keys)
    for person in people:
        await store.begin_build(person)
        await store.finish_build(person, [])
    for event in events:
        async with runtime.sessionmaker() as session:
            await TIMELINES.handler(session, event, ctx)
    snapshot = {k: await runtime.redis.zrange(k, 0, -1, withscores=True) for k in keys}
    snapshot["hot"] = sorted(await runtime.redis.smembers("hot_accounts"))
    return snapshot


async def _scenario(
    tmp: Path, steps: list[Action], seed: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    settings_ = base_settings(tmp, redis_url=REDIS_TEST_URL, hot_account_followers=3)
    runtime = await start_runtime(settings_, migrate=True)
    try:
        people = await _history(runtime, steps)
        events = await _events(runtime)
        in_order = await _apply(runtime, people, events)
        rng = random.Random(seed)
        messy = events + rng.sample(events, k=len(events) // 2)
        rng.shuffle(messy)
        shuffled = await _apply(runtime, people, messy)
        return in_order, shuffled
    finally:
        await stop_runtime(runtime)


def _redis_available() -> bool:
    async def ping() -> bool:
        client = aioredis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1)
        try:
            return bool(await client.ping())
        except (aioredis.ConnectionError, OSError):
            return False
        finally:
            await client.aclose()

    return asyncio.run(ping())


@pytest.fixture(scope="module")
def redis_up() -> None:
    if not _redis_available():
        from tests.conftest import service_unavailable

        service_unavailable("Redis")


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=actions, seed=st.integers(0, 2**16))
def test_redelivered_and_reordered_events_leave_the_same_timelines(
    redis_up: None, tmp_path_factory: pytest.TempPathFactory, steps: list[Action], seed: int
) -> None:
    tmp = tmp_path_factory.mktemp("idem")
    in_order, shuffled = asyncio.run(_scenario(tmp, steps, seed))
    assert shuffled == in_order
