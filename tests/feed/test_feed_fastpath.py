"""The feed's fast path answers exactly as the route does, and leaves the rest to it."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI

from snsfeed.feed import service
from snsfeed.platform import keywatch
from snsfeed.platform.deps import get_session
from snsfeed.platform.keywatch import TrackedReader
from tests.conftest import REDIS_APP_URL
from tests.helpers import Account, Api, eventually


async def _network(api: Api) -> Account:
    reader = await api.register()
    for n in range(3):
        author = await api.register()
        await api.follow(reader, author)
        post = await api.post(author, f"post {n} #tag")
        if n == 1:
            await api.like(reader, post["id"])
    await api.post(reader, "my own")
    return reader


async def _unroutable() -> None:
    raise AssertionError("the route was used")


async def test_the_fast_path_and_the_route_give_the_same_page(
    services_app: FastAPI, services_client: httpx.AsyncClient
) -> None:
    api = Api(services_client)
    reader = await _network(api)
    await api.feed(reader)  # the route: warms the principal and the documents
    # With the route's session dependency broken, only the fast path can answer.
    services_app.dependency_overrides[get_session] = _unroutable
    try:
        fast = await services_client.get("/api/v1/feed", headers=reader.headers)
    finally:
        services_app.dependency_overrides.clear()
    # An unknown parameter is never handled by the fast path: this is the route.
    routed = await services_client.get("/api/v1/feed?via=route", headers=reader.headers)
    assert fast.status_code == routed.status_code == 200
    assert fast.headers["content-type"] == routed.headers["content-type"] == "application/json"
    assert fast.json() == routed.json()
    assert len(fast.json()["items"]) == 4


async def test_the_fast_path_pages_with_cursors_like_the_route(
    services_client: httpx.AsyncClient,
) -> None:
    api = Api(services_client)
    reader = await _network(api)
    await api.feed(reader)
    first = await api.feed(reader, size=2)
    assert first["has_more"] is True
    fast = await services_client.get(
        "/api/v1/feed", params={"size": 2, "cursor": first["next_cursor"]}, headers=reader.headers
    )
    routed = await services_client.get(
        "/api/v1/feed",
        params={"size": 2, "cursor": first["next_cursor"], "via": "route"},
        headers=reader.headers,
    )
    assert fast.json() == routed.json()
    assert {i["id"] for i in fast.json()["items"]}.isdisjoint(i["id"] for i in first["items"])


async def test_bad_parameters_still_get_the_routes_4xx(api: Api) -> None:
    reader = await api.register()
    await api.feed(reader)
    for params, status in (
        ({"size": 0}, 422),
        ({"size": "ten"}, 422),
        ({"filter": "everything"}, 422),
        ({"cursor": "%%%"}, 400),
        ({"page": 999, "size": 50}, 400),
    ):
        r = await api.client.get("/api/v1/feed", params=params, headers=reader.headers)
        assert r.status_code == status, (params, r.text)


async def test_a_bad_token_still_gets_the_routes_401(api: Api) -> None:
    reader = await api.register()
    await api.feed(reader)
    r = await api.client.get("/api/v1/feed", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invalid_token"
    r = await api.client.get("/api/v1/feed")
    assert r.status_code == 401


def _no_sessions() -> None:
    raise AssertionError("a session was opened")


async def _remembering(app: FastAPI) -> None:
    """Wait for the app's key watch: only then are timeline reads remembered."""
    watch = app.state.timeline_store.tracked.watch
    await eventually(lambda: watch.active, within=3)
    assert watch is keywatch.current()  # the consumers' writes reach it at once


async def test_an_unchanged_page_is_answered_from_memory_alone(
    services_app: FastAPI, services_client: httpx.AsyncClient
) -> None:
    await _remembering(services_app)
    api = Api(services_client)
    reader = await _network(api)
    await api.feed(reader)  # the route: builds the timeline, warms the caches
    warm = await services_client.get("/api/v1/feed", headers=reader.headers)  # remembered
    store, state = services_app.state.timeline_store, services_app.state
    tracked, sessionmaker = store.tracked, state.sessionmaker
    # Neither Redis (a reader on a closed port) nor SQL (no sessions) can answer now.
    store.tracked = TrackedReader("redis://127.0.0.1:1/0", tracked.watch)
    state.sessionmaker = _no_sessions
    services_app.dependency_overrides[get_session] = _unroutable
    try:
        again = await services_client.get("/api/v1/feed", headers=reader.headers)
    finally:
        services_app.dependency_overrides.clear()
        store.tracked, state.sessionmaker = tracked, sessionmaker
    assert again.status_code == 200
    assert again.content == warm.content


async def test_a_remembered_page_gives_way_to_a_new_post(api: Api, profile: str) -> None:
    reader = await api.register()
    author = await api.register()
    await api.follow(reader, author)
    first = await api.post(author, "first")
    assert [i["id"] for i in (await api.feed(reader))["items"]] == [first["id"]]
    assert [i["id"] for i in (await api.feed(reader))["items"]] == [first["id"]]
    second = await api.post(author, "second")
    assert [i["id"] for i in (await api.feed(reader))["items"]] == [second["id"], first["id"]]


async def test_a_timeline_changed_by_another_process_reaches_the_next_read(
    services_app: FastAPI, services_client: httpx.AsyncClient
) -> None:
    await _remembering(services_app)
    api = Api(services_client)
    reader = await api.register()
    author = await api.register()
    await api.follow(reader, author)
    older = await api.post(author, "older")
    newer = await api.post(author, "newer")
    assert len((await api.feed(reader))["items"]) == 2
    assert len((await api.feed(reader))["items"]) == 2  # now remembered
    # A worker elsewhere drops an entry: only Redis can tell this process.
    other_process = aioredis.Redis.from_url(REDIS_APP_URL)
    try:
        await other_process.zrem(f"tl:{reader.id}", newer["id"])
    finally:
        await other_process.aclose()
    deadline = asyncio.get_running_loop().time() + 3
    while len(items := (await api.feed(reader))["items"]) != 1:
        assert asyncio.get_running_loop().time() < deadline, "the change never reached the feed"
        await asyncio.sleep(0.02)
    assert [i["id"] for i in items] == [older["id"]]


async def test_a_fault_in_the_fast_path_leaves_the_request_to_the_route(
    services_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = Api(services_client)
    reader = await _network(api)
    expected = await api.feed(reader)

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("a bug in the fast path")

    monkeypatch.setattr(service, "remembered_home_page", broken)
    r = await services_client.get("/api/v1/feed", headers=reader.headers)
    assert r.status_code == 200
    assert r.json() == expected
