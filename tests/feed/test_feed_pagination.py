"""Home feed paging: page/size limits, totals, and stable keyset cursors."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.helpers import Account, Api


async def _posts(api: Api, author: Account, n: int) -> list[str]:
    """Post n times; ids newest first, as the feed orders them."""
    ids = [(await api.post(author, f"post {i}"))["id"] for i in range(n)]
    return ids[::-1]


async def _get(client: httpx.AsyncClient, viewer: Account, **params: Any) -> httpx.Response:
    return await client.get("/api/v1/feed", params=params, headers=viewer.headers)


async def test_default_page_size_is_20(api: Api) -> None:
    me = await api.register()
    ids = await _posts(api, me, 21)
    body = await api.feed(me)
    assert [i["id"] for i in body["items"]] == ids[:20]
    assert body["total"] == 21
    assert body["has_more"] is True


async def test_max_page_size_is_50(api: Api, client: httpx.AsyncClient) -> None:
    me = await api.register()
    assert (await _get(client, me, size=50)).status_code == 200
    for size in (51, 0, -1):
        r = await _get(client, me, size=size)
        assert r.status_code == 422, size
        assert r.json()["error"]["code"] == "validation_error"


async def test_non_numeric_paging_params_are_422(api: Api, client: httpx.AsyncClient) -> None:
    me = await api.register()
    for params in ({"size": "ten"}, {"page": "x"}, {"page": 0}):
        r = await _get(client, me, **params)
        assert r.status_code == 422, params


async def test_page_two_continues_page_one(api: Api) -> None:
    me = await api.register()
    ids = await _posts(api, me, 7)
    first = await api.feed(me, size=3)
    second = await api.feed(me, size=3, page=2)
    third = await api.feed(me, size=3, page=3)
    assert [i["id"] for i in first["items"]] == ids[0:3]
    assert [i["id"] for i in second["items"]] == ids[3:6]
    assert [i["id"] for i in third["items"]] == ids[6:7]
    assert (first["page"], second["page"], third["page"]) == (1, 2, 3)
    assert (first["has_more"], second["has_more"], third["has_more"]) == (True, True, False)
    assert first["total"] == second["total"] == third["total"] == 7
    assert third["next_cursor"] is None


async def test_exactly_full_last_page_has_no_more(api: Api) -> None:
    me = await api.register()
    await _posts(api, me, 6)
    body = await api.feed(me, size=3, page=2)
    assert len(body["items"]) == 3
    assert body["has_more"] is False
    assert body["next_cursor"] is None


async def test_page_past_the_end_is_empty(api: Api) -> None:
    me = await api.register()
    await _posts(api, me, 2)
    body = await api.feed(me, size=3, page=5)
    assert body["items"] == []
    assert body["has_more"] is False
    assert body["total"] == 2


async def test_cursor_walk_returns_every_post_once_in_order(api: Api) -> None:
    me, friend = await api.register(), await api.register()
    await api.follow(me, friend)
    mine = [(await api.post(me, f"m{i}"))["id"] for i in range(5)]
    theirs = [(await api.post(friend, f"f{i}"))["id"] for i in range(5)]
    expected = (await api.feed(me, size=50))["items"]
    assert sorted(i["id"] for i in expected) == sorted(mine + theirs)
    seen: list[str] = []
    body = await api.feed(me, size=3)
    while True:
        seen += [i["id"] for i in body["items"]]
        assert body["has_more"] is (body["next_cursor"] is not None)
        if body["next_cursor"] is None:
            break
        assert len(seen) < 20
        body = await api.feed(me, size=3, cursor=body["next_cursor"])
    assert seen == [i["id"] for i in expected]


async def test_cursor_pages_are_stable_while_new_posts_arrive(api: Api) -> None:
    me = await api.register()
    ids = await _posts(api, me, 9)
    seen: list[str] = []
    body = await api.feed(me, size=3)
    while True:
        seen += [i["id"] for i in body["items"]]
        # New posts between requests must not shift the pages still to come.
        await api.post(me, "breaking news")
        if body["next_cursor"] is None:
            break
        body = await api.feed(me, size=3, cursor=body["next_cursor"])
    assert seen == ids


async def test_offset_pages_shift_when_posts_arrive_but_cursor_does_not(api: Api) -> None:
    me = await api.register()
    ids = await _posts(api, me, 4)
    first = await api.feed(me, size=2)
    await api.post(me, "new")
    by_cursor = await api.feed(me, size=2, cursor=first["next_cursor"])
    assert [i["id"] for i in by_cursor["items"]] == ids[2:4]


async def test_cursor_respects_filters(api: Api) -> None:
    me = await api.register()
    links = []
    for i in range(4):
        await api.post(me, f"text {i}")
        post = await api.post(me, f"l{i}", content_type="link", link_url="https://example.org/")
        links.append(post["id"])
    first = await api.feed(me, size=2, filter="link")
    second = await api.feed(me, size=2, filter="link", cursor=first["next_cursor"])
    got = [i["id"] for i in first["items"] + second["items"]]
    assert got == links[::-1]
    assert second["next_cursor"] is None


async def test_bad_cursor_is_400(api: Api, client: httpx.AsyncClient) -> None:
    me = await api.register()
    for cursor in ("%%%", "abc", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"):
        r = await _get(client, me, cursor=cursor)
        assert r.status_code == 400, cursor
        assert r.json()["error"]["code"] == "invalid_cursor"


async def test_total_counts_the_whole_feed(api: Api) -> None:
    me, friend, stranger = await api.register(), await api.register(), await api.register()
    await api.follow(me, friend)
    await _posts(api, me, 2)
    await _posts(api, friend, 3)
    await _posts(api, stranger, 4)
    await api.post(friend, visibility="private")
    body = await api.feed(me, size=1)
    assert body["total"] == 5
    assert len(body["items"]) == 1


@pytest.mark.parametrize("score", ["99999999999999999999", "-99999999999999999999"])
async def test_crafted_cursor_with_an_extreme_time_is_not_a_server_error(
    api: Api, client: httpx.AsyncClient, score: str
) -> None:
    import base64

    me = await api.register()
    await api.post(me)
    raw = f"{score}:{uuid.uuid4()}".encode()
    cursor = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    r = await client.get("/api/v1/feed", params={"cursor": cursor}, headers=me.headers)
    assert r.status_code == 200, r.text
