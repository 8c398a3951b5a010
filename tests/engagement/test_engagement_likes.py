"""Likes: idempotent like/unlike, counters and viewer state, visibility and auth."""

from __future__ import annotations

import uuid

import httpx

from tests.helpers import Api


def _like_url(content_id: str) -> str:
    return f"/api/v1/content/{content_id}/like"


async def test_like_returns_state_and_count(api: Api, client: httpx.AsyncClient) -> None:
    author, fan = await api.register(), await api.register()
    post = await api.post(author)
    r = await client.post(_like_url(post["id"]), headers=fan.headers)
    assert r.status_code == 200
    assert r.json() == {"content_id": post["id"], "liked": True, "likes_count": 1}


async def test_liking_twice_counts_once(api: Api, client: httpx.AsyncClient) -> None:
    author, fan = await api.register(), await api.register()
    post = await api.post(author)
    await api.like(fan, post["id"])
    second = await api.like(fan, post["id"])
    assert second["likes_count"] == 1
    assert (await api.content(fan, post["id"]))["engagement"]["likes_count"] == 1


async def test_unlike_is_204_and_idempotent(api: Api, client: httpx.AsyncClient) -> None:
    author, fan = await api.register(), await api.register()
    post = await api.post(author)
    await api.like(fan, post["id"])
    for _ in range(2):
        r = await client.delete(_like_url(post["id"]), headers=fan.headers)
        assert r.status_code == 204
        assert r.content == b""
    body = await api.content(fan, post["id"])
    assert body["engagement"]["likes_count"] == 0
    assert body["viewer"]["liked"] is False


async def test_unlike_without_like_keeps_count(api: Api, client: httpx.AsyncClient) -> None:
    author, fan, other = await api.register(), await api.register(), await api.register()
    post = await api.post(author)
    await api.like(other, post["id"])
    r = await client.delete(_like_url(post["id"]), headers=fan.headers)
    assert r.status_code == 204
    assert (await api.content(author, post["id"]))["engagement"]["likes_count"] == 1


async def test_viewer_liked_reflects_each_viewer(api: Api) -> None:
    author, fan, other = await api.register(), await api.register(), await api.register()
    post = await api.post(author)
    await api.like(fan, post["id"])
    await api.like(author, post["id"])
    assert (await api.content(fan, post["id"]))["viewer"]["liked"] is True
    assert (await api.content(author, post["id"]))["viewer"]["liked"] is True
    assert (await api.content(other, post["id"]))["viewer"]["liked"] is False
    anonymous = await api.content(None, post["id"])
    assert anonymous["viewer"] is None
    assert anonymous["engagement"]["likes_count"] == 2


async def test_liked_state_shows_in_feed(api: Api) -> None:
    author, fan = await api.register(), await api.register()
    await api.follow(fan, author)
    post = await api.post(author)
    await api.like(fan, post["id"])
    [item] = (await api.feed(fan))["items"]
    assert item["viewer"]["liked"] is True
    assert item["engagement"]["likes_count"] == 1


async def test_like_followers_only_post_as_stranger_is_404(
    api: Api, client: httpx.AsyncClient
) -> None:
    author, stranger = await api.register(), await api.register()
    post = await api.post(author, visibility="followers")
    r = await client.post(_like_url(post["id"]), headers=stranger.headers)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    assert (await api.content(author, post["id"]))["engagement"]["likes_count"] == 0


async def test_like_followers_only_post_as_follower_works(api: Api) -> None:
    author, follower = await api.register(), await api.register()
    await api.follow(follower, author)
    post = await api.post(author, visibility="followers")
    assert (await api.like(follower, post["id"]))["likes_count"] == 1


async def test_like_private_post_of_someone_else_is_404(
    api: Api, client: httpx.AsyncClient
) -> None:
    author, follower = await api.register(), await api.register()
    await api.follow(follower, author)
    post = await api.post(author, visibility="private")
    r = await client.post(_like_url(post["id"]), headers=follower.headers)
    assert r.status_code == 404


async def test_like_when_blocked_by_author_is_404(api: Api, client: httpx.AsyncClient) -> None:
    author, blocked = await api.register(), await api.register()
    post = await api.post(author)
    await api.block(author, blocked)
    r = await client.post(_like_url(post["id"]), headers=blocked.headers)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


async def test_like_author_one_has_blocked_is_404(api: Api, client: httpx.AsyncClient) -> None:
    author, blocker = await api.register(), await api.register()
    post = await api.post(author)
    await api.block(blocker, author)
    r = await client.post(_like_url(post["id"]), headers=blocker.headers)
    assert r.status_code == 404


async def test_unlike_invisible_post_is_404(api: Api, client: httpx.AsyncClient) -> None:
    author, stranger = await api.register(), await api.register()
    post = await api.post(author, visibility="followers")
    r = await client.delete(_like_url(post["id"]), headers=stranger.headers)
    assert r.status_code == 404


async def test_like_deleted_post_is_404(api: Api, client: httpx.AsyncClient) -> None:
    author, fan = await api.register(), await api.register()
    post = await api.post(author)
    r = await client.delete(f"/api/v1/content/{post['id']}", headers=author.headers)
    assert r.status_code == 204
    r = await client.post(_like_url(post["id"]), headers=fan.headers)
    assert r.status_code == 404


async def test_like_unknown_post_is_404(api: Api, client: httpx.AsyncClient) -> None:
    fan = await api.register()
    r = await client.post(_like_url(str(uuid.uuid4())), headers=fan.headers)
    assert r.status_code == 404


async def test_like_with_malformed_id_is_422(api: Api, client: httpx.AsyncClient) -> None:
    fan = await api.register()
    r = await client.post(_like_url("not-a-uuid"), headers=fan.headers)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"


async def test_anonymous_like_is_401(api: Api, client: httpx.AsyncClient) -> None:
    author = await api.register()
    post = await api.post(author)
    r = await client.post(_like_url(post["id"]))
    assert r.status_code == 401
    assert set(r.json()["error"]) == {"code", "message", "details"}
    assert r.headers["www-authenticate"].startswith("Bearer")
    r = await client.delete(_like_url(post["id"]))
    assert r.status_code == 401
    assert (await api.content(author, post["id"]))["engagement"]["likes_count"] == 0
