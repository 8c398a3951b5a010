"""GET /api/v1/feed/refresh: posts newer than X-Last-Seen-Id."""

from __future__ import annotations

import uuid

import httpx
import pytest

from snsfeed.platform.ids import id_floor_for_ms, id_timestamp_ms
from tests.helpers import Account, Api

URL = "/api/v1/feed/refresh"


async def _refresh(
    client: httpx.AsyncClient, viewer: Account, last_seen: str | None, **params: object
) -> httpx.Response:
    headers = dict(viewer.headers)
    if last_seen is not None:
        headers["X-Last-Seen-Id"] = last_seen
    return await client.get(URL, headers=headers, params=params)


async def test_refresh_returns_newer_posts_newest_first(
    api: Api, client: httpx.AsyncClient
) -> None:
    me, friend, stranger = await api.register(), await api.register(), await api.register()
    await api.follow(me, friend)
    seen = await api.post(friend, "seen")
    a = await api.post(me, "a")
    await api.post(stranger, "not mine")
    b = await api.post(friend, "b")
    r = await _refresh(client, me, seen["id"])
    assert r.status_code == 200
    body = r.json()
    assert [i["id"] for i in body["new_items"]] == [b["id"], a["id"]]
    assert body["count"] == 2


async def test_refresh_with_newest_id_is_empty(api: Api, client: httpx.AsyncClient) -> None:
    me = await api.register()
    newest = await api.post(me)
    body = (await _refresh(client, me, newest["id"])).json()
    assert body["new_items"] == []
    assert body["count"] == 0


async def test_refresh_excludes_hidden_posts(api: Api, client: httpx.AsyncClient) -> None:
    me, friend, muted = await api.register(), await api.register(), await api.register()
    await api.follow(me, friend)
    await api.follow(me, muted)
    await api.mute(me, muted)
    seen = await api.post(me)
    await api.post(muted)
    await api.post(friend, visibility="private")
    visible = await api.post(friend, visibility="followers")
    body = (await _refresh(client, me, seen["id"])).json()
    assert [i["id"] for i in body["new_items"]] == [visible["id"]]
    assert body["count"] == 1


async def test_refresh_size_limits_items_not_count(api: Api, client: httpx.AsyncClient) -> None:
    me = await api.register()
    seen = await api.post(me)
    ids = [(await api.post(me, f"n{i}"))["id"] for i in range(4)]
    body = (await _refresh(client, me, seen["id"], size=2)).json()
    assert [i["id"] for i in body["new_items"]] == ids[::-1][:2]
    assert body["count"] == 4
    assert (await _refresh(client, me, seen["id"], size=51)).status_code == 422


async def test_refresh_without_header_is_400(api: Api, client: httpx.AsyncClient) -> None:
    me = await api.register()
    for value in (None, ""):
        r = await _refresh(client, me, value)
        assert r.status_code == 400
        assert r.json()["error"]["code"] == "last_seen_required"


async def test_refresh_with_non_uuid_is_400(api: Api, client: httpx.AsyncClient) -> None:
    me = await api.register()
    for value in ("42", "not-a-uuid", "' OR 1=1 --"):
        r = await _refresh(client, me, value)
        assert r.status_code == 400, value
        assert r.json()["error"]["code"] == "invalid_last_seen_id"


async def test_unknown_valid_uuid_works_as_a_time_bound(
    api: Api, client: httpx.AsyncClient
) -> None:
    me = await api.register()
    older = await api.post(me, "older")
    newer = await api.post(me, "newer")
    # An id nobody has, minted for the millisecond after the older post.
    bound = id_floor_for_ms(id_timestamp_ms(uuid.UUID(older["id"])) + 1)
    assert str(bound) not in (older["id"], newer["id"])
    body = (await _refresh(client, me, str(bound))).json()
    expected = [p["id"] for p in (newer, older) if uuid.UUID(p["id"]) > bound]
    assert older["id"] not in expected
    assert [i["id"] for i in body["new_items"]] == expected
    assert body["count"] == len(expected)
    # A bound far in the past returns everything; the nil UUID is a valid bound too.
    everything = (await _refresh(client, me, str(uuid.UUID(int=0)))).json()
    assert [i["id"] for i in everything["new_items"]] == [newer["id"], older["id"]]


async def test_random_uuid4_is_accepted(api: Api, client: httpx.AsyncClient) -> None:
    me = await api.register()
    await api.post(me)
    r = await _refresh(client, me, str(uuid.uuid4()))
    assert r.status_code == 200
    assert isinstance(r.json()["count"], int)


async def test_anonymous_refresh_is_401(client: httpx.AsyncClient) -> None:
    r = await client.get(URL, headers={"X-Last-Seen-Id": str(uuid.uuid4())})
    assert r.status_code == 401


@pytest.mark.parametrize(
    "last_seen",
    ["ffffffff-ffff-4fff-bfff-ffffffffffff", "00000000-0000-4000-8000-000000000000"],
    ids=["far-future-bits", "zero-time"],
)
async def test_extreme_time_bits_in_last_seen_id_are_not_a_server_error(
    api: Api, client: httpx.AsyncClient, last_seen: str
) -> None:
    me = await api.register()
    await api.post(me)
    r = await _refresh(client, me, last_seen)
    assert r.status_code == 200, r.text
