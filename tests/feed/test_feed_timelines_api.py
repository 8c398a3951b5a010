"""Home feeds served from Redis timelines: fan-out, reposts, hot accounts, rebuilds, the
SQL fallback below the cache and when Redis is away. These look inside Redis, so they
run on the services profile only."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI

from snsfeed.feed.timelines import TimelineStore, timeline_key
from tests.helpers import Account, Api


@pytest.fixture
def services(services_app: FastAPI, services_client: httpx.AsyncClient) -> FastAPI:
    return services_app


@pytest.fixture
def api(services_client: httpx.AsyncClient) -> Api:
    return Api(services_client)


@pytest.fixture
def client(services_client: httpx.AsyncClient) -> httpx.AsyncClient:
    return services_client


def store_of(app: FastAPI) -> TimelineStore:
    store: TimelineStore = app.state.timeline_store
    return store


async def settle(app: FastAPI) -> None:
    await app.state.runtime.bus.wait_idle(within_seconds=30)


async def cached_post_ids(app: FastAPI, user: Account) -> list[str]:
    result = await store_of(app).read(uuid.UUID(user.id), None, 1000)
    assert result is not None, "timeline is not built"
    return [str(e.post_id) for e in result[0]]


async def ids(api: Api, user: Account, **params: Any) -> list[str]:
    return [item["id"] for item in (await api.feed(user, **params))["items"]]


async def test_first_read_builds_the_timeline_in_redis(services: FastAPI, api: Api) -> None:
    me, friend = await api.register(), await api.register()
    await api.follow(me, friend)
    post = await api.post(friend)
    assert not await store_of(services).exists(uuid.UUID(me.id))
    assert await ids(api, me) == [post["id"]]
    assert await cached_post_ids(services, me) == [post["id"]]


async def test_new_post_fans_out_to_built_follower_timelines(services: FastAPI, api: Api) -> None:
    me, friend = await api.register(), await api.register()
    await api.follow(me, friend)
    await api.feed(me)  # builds my timeline
    post = await api.post(friend, "fresh")
    await settle(services)
    assert await cached_post_ids(services, me) == [post["id"]]


async def test_followers_only_post_reaches_followers_not_strangers(
    services: FastAPI, api: Api
) -> None:
    author, follower, stranger = await api.register(), await api.register(), await api.register()
    await api.follow(follower, author)
    await api.feed(follower)
    await api.feed(stranger)
    post = await api.post(author, "inner circle", visibility="followers")
    await settle(services)
    assert await cached_post_ids(services, follower) == [post["id"]]
    assert await cached_post_ids(services, stranger) == []


async def test_private_post_reaches_only_the_author(services: FastAPI, api: Api) -> None:
    author, follower = await api.register(), await api.register()
    await api.follow(follower, author)
    await api.feed(follower)
    await api.feed(author)
    post = await api.post(author, "diary", visibility="private")
    await settle(services)
    assert await cached_post_ids(services, author) == [post["id"]]
    assert await cached_post_ids(services, follower) == []


async def test_repost_shows_who_shared_it(services: FastAPI, api: Api, client: Any) -> None:
    me, sharer, author = await api.register(), await api.register(), await api.register()
    await api.follow(me, sharer)
    await api.feed(me)
    post = await api.post(author, "worth sharing")
    r = await client.post(f"/api/v1/content/{post['id']}/share", headers=sharer.headers)
    assert r.status_code == 201
    items = (await api.feed(me))["items"]
    assert [(i["id"], i["shared_by"]["id"]) for i in items] == [(post["id"], sharer.id)]
    assert items[0]["shared_at"] is not None


async def test_a_post_appears_once_on_a_page_even_when_shared(
    services: FastAPI, api: Api, client: Any
) -> None:
    me, sharer, author = await api.register(), await api.register(), await api.register()
    await api.follow(me, sharer)
    await api.follow(me, author)
    post = await api.post(author, "popular")
    r = await client.post(f"/api/v1/content/{post['id']}/share", headers=sharer.headers)
    assert r.status_code == 201
    assert await ids(api, me) == [post["id"]]


async def test_unfollow_removes_the_authors_entries(
    services: FastAPI, api: Api, client: Any
) -> None:
    me, friend = await api.register(), await api.register()
    await api.follow(me, friend)
    await api.post(friend)
    await api.feed(me)
    r = await client.delete(f"/api/v1/users/{friend.id}/follow", headers=me.headers)
    assert r.status_code == 204
    await settle(services)
    assert await cached_post_ids(services, me) == []


async def test_block_removes_entries_both_ways(services: FastAPI, api: Api) -> None:
    a, b = await api.register(), await api.register()
    await api.follow(a, b)
    await api.follow(b, a)
    await api.post(a, "from a")
    await api.post(b, "from b")
    await api.feed(a)
    await api.feed(b)
    await api.block(a, b)
    await settle(services)
    assert len(await cached_post_ids(services, a)) == 1  # only a's own post
    assert len(await cached_post_ids(services, b)) == 1


async def test_new_follow_merges_the_followees_recent_posts(services: FastAPI, api: Api) -> None:
    me, friend = await api.register(), await api.register()
    older = [await api.post(friend, f"older {n}") for n in range(3)]
    await api.feed(me)
    await api.follow(me, friend)
    await settle(services)
    assert await cached_post_ids(services, me) == [p["id"] for p in reversed(older)]


async def test_hot_account_posts_are_merged_at_read_time(services: FastAPI, api: Api) -> None:
    settings = services.state.settings
    celebrity = await api.register()
    fans = [await api.register() for _ in range(3)]
    for fan in fans:
        await api.follow(fan, celebrity)
        await api.feed(fan)
    previous, settings.hot_account_followers = settings.hot_account_followers, 2
    try:
        post = await api.post(celebrity, "hello fans")
        await settle(services)
        assert await cached_post_ids(services, fans[0]) == []  # not fanned out
        assert await ids(api, fans[0]) == [post["id"]]  # pulled on read
    finally:
        settings.hot_account_followers = previous


async def test_a_hot_accounts_repost_is_merged_at_read_time(services: FastAPI, api: Api) -> None:
    settings = services.state.settings
    celebrity, author = await api.register(), await api.register()
    fans = [await api.register() for _ in range(3)]
    for fan in fans:
        await api.follow(fan, celebrity)
        await api.feed(fan)
    post = await api.post(author, "worth sharing")
    previous, settings.hot_account_followers = settings.hot_account_followers, 2
    try:
        r = await api.client.post(f"/api/v1/content/{post['id']}/share", headers=celebrity.headers)
        assert r.status_code in (200, 201), r.text
        await settle(services)
        assert await cached_post_ids(services, fans[0]) == []  # not fanned out
        [item] = (await api.feed(fans[0]))["items"]
        assert item["id"] == post["id"]
        assert item["shared_by"]["id"] == celebrity.id
        r = await api.client.delete(
            f"/api/v1/content/{post['id']}/share", headers=celebrity.headers
        )
        assert r.status_code == 204, r.text
        assert await ids(api, fans[0]) == []
    finally:
        settings.hot_account_followers = previous


async def test_a_deleted_post_leaves_the_followers_timelines_and_the_total(
    services: FastAPI, api: Api
) -> None:
    me, friend = await api.register(), await api.register()
    await api.follow(me, friend)
    await api.feed(me)
    kept, doomed = await api.post(friend, "kept"), await api.post(friend, "doomed")
    assert (await api.feed(me))["total"] == 2
    r = await api.client.delete(f"/api/v1/content/{doomed['id']}", headers=friend.headers)
    assert r.status_code == 204, r.text
    await settle(services)
    assert await cached_post_ids(services, me) == [kept["id"]]
    body = await api.feed(me)
    assert [i["id"] for i in body["items"]] == [kept["id"]]
    assert body["total"] == 1


async def test_expired_timeline_is_rebuilt_from_sql(services: FastAPI, api: Api) -> None:
    me, friend = await api.register(), await api.register()
    await api.follow(me, friend)
    posts = [await api.post(friend, f"p{n}") for n in range(3)]
    await api.feed(me)
    await services.state.redis.delete(timeline_key(me.id))
    assert await ids(api, me) == [p["id"] for p in reversed(posts)]


async def test_reading_past_the_capped_timeline_continues_from_sql(
    services: FastAPI, api: Api
) -> None:
    store = store_of(services)
    me, friend = await api.register(), await api.register()
    await api.follow(me, friend)
    posts = [await api.post(friend, f"p{n}") for n in range(7)]
    previous, store.cap = store.cap, 3
    try:
        await services.state.redis.delete(timeline_key(me.id))
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"size": 2, **({"cursor": cursor} if cursor else {})}
            body = await api.feed(me, **params)
            seen += [i["id"] for i in body["items"]]
            cursor = body["next_cursor"]
            if not cursor:
                break
        assert len(await cached_post_ids(services, me)) == 3
        assert seen == [p["id"] for p in reversed(posts)]
    finally:
        store.cap = previous


async def test_feed_answers_from_sql_when_redis_is_unreachable(services: FastAPI, api: Api) -> None:
    me, friend = await api.register(), await api.register()
    await api.follow(me, friend)
    post = await api.post(friend)
    dead = aioredis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    working = services.state.timeline_store
    services.state.timeline_store = TimelineStore(dead, cap=working.cap, ttl_seconds=60)
    try:
        assert await ids(api, me) == [post["id"]]
    finally:
        services.state.timeline_store = working
        await dead.aclose()
