"""The feed's fast path answers exactly as the route does, and leaves the rest to it."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from snsfeed.platform.deps import get_session
from tests.helpers import Account, Api


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
