"""Shares (reposts): idempotent create/undo, counters, viewer state, what may be shared."""

from __future__ import annotations

import uuid

import httpx

from tests.helpers import Api


def _url(post_id: str) -> str:
    return f"/api/v1/content/{post_id}/share"


async def test_first_share_is_201_with_count(api: Api, client: httpx.AsyncClient) -> None:
    author, fan = await api.register(), await api.register()
    post = await api.post(author)
    r = await client.post(_url(post["id"]), headers=fan.headers)
    assert r.status_code == 201
    assert r.json() == {"content_id": post["id"], "shared": True, "shares_count": 1}


async def test_sharing_again_is_200_and_counts_once(api: Api, client: httpx.AsyncClient) -> None:
    author, fan = await api.register(), await api.register()
    post = await api.post(author)
    assert (await client.post(_url(post["id"]), headers=fan.headers)).status_code == 201
    r = await client.post(_url(post["id"]), headers=fan.headers)
    assert r.status_code == 200
    assert r.json()["shares_count"] == 1
    assert (await api.content(author, post["id"]))["engagement"]["shares_count"] == 1


async def test_unshare_is_204_and_idempotent(api: Api, client: httpx.AsyncClient) -> None:
    author, fan = await api.register(), await api.register()
    post = await api.post(author)
    await client.post(_url(post["id"]), headers=fan.headers)
    for _ in range(2):
        r = await client.delete(_url(post["id"]), headers=fan.headers)
        assert r.status_code == 204
    body = await api.content(fan, post["id"])
    assert body["engagement"]["shares_count"] == 0
    assert body["viewer"]["shared"] is False


async def test_share_after_unshare_is_201_again(api: Api, client: httpx.AsyncClient) -> None:
    author, fan = await api.register(), await api.register()
    post = await api.post(author)
    await client.post(_url(post["id"]), headers=fan.headers)
    await client.delete(_url(post["id"]), headers=fan.headers)
    r = await client.post(_url(post["id"]), headers=fan.headers)
    assert r.status_code == 201
    assert r.json()["shares_count"] == 1


async def test_viewer_shared_state_is_per_viewer(api: Api, client: httpx.AsyncClient) -> None:
    author, fan, other = await api.register(), await api.register(), await api.register()
    post = await api.post(author)
    await client.post(_url(post["id"]), headers=fan.headers)
    assert (await api.content(fan, post["id"]))["viewer"]["shared"] is True
    assert (await api.content(other, post["id"]))["viewer"]["shared"] is False
    assert (await api.content(fan, post["id"]))["viewer"]["liked"] is False


async def test_followers_only_post_cannot_be_shared_by_follower(
    api: Api, client: httpx.AsyncClient
) -> None:
    author, follower = await api.register(), await api.register()
    await api.follow(follower, author)
    post = await api.post(author, visibility="followers")
    r = await client.post(_url(post["id"]), headers=follower.headers)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "not_shareable"
    assert (await api.content(author, post["id"]))["engagement"]["shares_count"] == 0


async def test_own_private_post_cannot_be_shared(api: Api, client: httpx.AsyncClient) -> None:
    author = await api.register()
    post = await api.post(author, visibility="private")
    r = await client.post(_url(post["id"]), headers=author.headers)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "not_shareable"


async def test_share_of_invisible_post_is_404(api: Api, client: httpx.AsyncClient) -> None:
    author, stranger = await api.register(), await api.register()
    followers_only = await api.post(author, visibility="followers")
    private = await api.post(author, visibility="private")
    for post in (followers_only, private):
        r = await client.post(_url(post["id"]), headers=stranger.headers)
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "not_found"


async def test_share_when_blocked_is_404(api: Api, client: httpx.AsyncClient) -> None:
    author, blocked = await api.register(), await api.register()
    post = await api.post(author)
    await api.block(author, blocked)
    assert (await client.post(_url(post["id"]), headers=blocked.headers)).status_code == 404


async def test_share_unknown_post_is_404(api: Api, client: httpx.AsyncClient) -> None:
    user = await api.register()
    assert (await client.post(_url(str(uuid.uuid4())), headers=user.headers)).status_code == 404


async def test_anonymous_share_is_401(api: Api, client: httpx.AsyncClient) -> None:
    author = await api.register()
    post = await api.post(author)
    assert (await client.post(_url(post["id"]))).status_code == 401
    assert (await client.delete(_url(post["id"]))).status_code == 401


async def test_share_of_post_made_private_later_can_still_be_undone(
    api: Api, client: httpx.AsyncClient
) -> None:
    author, fan = await api.register(), await api.register()
    await api.follow(fan, author)
    post = await api.post(author)
    await client.post(_url(post["id"]), headers=fan.headers)
    r = await client.patch(
        f"/api/v1/content/{post['id']}", json={"visibility": "followers"}, headers=author.headers
    )
    assert r.status_code == 200
    assert (await client.delete(_url(post["id"]), headers=fan.headers)).status_code == 204
    assert (await api.content(author, post["id"]))["engagement"]["shares_count"] == 0
