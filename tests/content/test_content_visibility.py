"""Who may read a post: visibility and blocks, on the post itself and on an author's list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.helpers import Account, Api


@dataclass
class Cast:
    author: Account
    follower: Account
    stranger: Account
    blocked: Account  # the author blocked this user
    blocker: Account  # this user blocked the author
    posts: dict[str, dict[str, Any]]


@pytest.fixture
async def cast(api: Api) -> Cast:
    author, follower, stranger = await api.register(), await api.register(), await api.register()
    blocked, blocker = await api.register(), await api.register()
    await api.follow(follower, author)
    # Both used to follow the author: the block must cut through an existing follow.
    await api.follow(blocked, author)
    await api.follow(blocker, author)
    posts = {
        v: await api.post(author, f"{v} post", visibility=v)
        for v in ("public", "followers", "private")
    }
    await api.block(author, blocked)
    await api.block(blocker, author)
    return Cast(author, follower, stranger, blocked, blocker, posts)


def _viewer(cast: Cast, who: str) -> Account | None:
    return None if who == "anonymous" else getattr(cast, who)


# Who sees which post; everyone else gets 404, indistinguishable from a missing post.
CAN_SEE = {
    "public": {"author", "follower", "stranger", "anonymous"},
    "followers": {"author", "follower"},
    "private": {"author"},
}
VIEWERS = ["author", "follower", "stranger", "blocked", "blocker", "anonymous"]


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("visibility", ["public", "followers", "private"])
async def test_read_post_by_id(
    client: httpx.AsyncClient, cast: Cast, visibility: str, viewer: str
) -> None:
    who = _viewer(cast, viewer)
    post = cast.posts[visibility]
    r = await client.get(f"/api/v1/content/{post['id']}", headers=who.headers if who else {})
    if viewer in CAN_SEE[visibility]:
        assert r.status_code == 200
        assert r.json()["id"] == post["id"]
    else:
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("viewer", ["author", "follower", "stranger", "anonymous"])
async def test_author_list_shows_what_the_viewer_may_see(
    client: httpx.AsyncClient, cast: Cast, viewer: str
) -> None:
    who = _viewer(cast, viewer)
    headers = who.headers if who else {}
    r = await client.get(f"/api/v1/users/{cast.author.id}/content", headers=headers)
    assert r.status_code == 200
    visible = [v for v in ("private", "followers", "public") if viewer in CAN_SEE[v]]
    assert [i["id"] for i in r.json()["items"]] == [cast.posts[v]["id"] for v in visible]
    # The profile's posts_count counts exactly what this viewer can see.
    r = await client.get(f"/api/v1/users/{cast.author.id}", headers=headers)
    assert r.json()["counts"]["posts_count"] == len(visible)


@pytest.mark.parametrize("viewer", ["blocked", "blocker"])
async def test_author_list_is_404_across_a_block(
    client: httpx.AsyncClient, cast: Cast, viewer: str
) -> None:
    who = getattr(cast, viewer)
    r = await client.get(f"/api/v1/users/{cast.author.id}/content", headers=who.headers)
    assert r.status_code == 404


async def test_blocked_users_posts_are_hidden_from_the_blocker(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice, bob = await api.register(), await api.register()
    post = await api.post(bob, "bob's public post")
    await api.block(alice, bob)
    r = await client.get(f"/api/v1/content/{post['id']}", headers=alice.headers)
    assert r.status_code == 404
    # Logging out does not lift a block's effect on others; it just makes you anonymous.
    assert (await client.get(f"/api/v1/content/{post['id']}")).status_code == 200


async def test_unfollowing_loses_followers_only_posts(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    await api.follow(bob, alice)
    post = await api.post(alice, "inner circle", visibility="followers")
    assert (
        await client.get(f"/api/v1/content/{post['id']}", headers=bob.headers)
    ).status_code == 200
    assert (
        await client.delete(f"/api/v1/users/{alice.id}/follow", headers=bob.headers)
    ).status_code == 204
    assert (
        await client.get(f"/api/v1/content/{post['id']}", headers=bob.headers)
    ).status_code == 404


async def test_following_the_author_does_not_work_the_other_way(
    api: Api, client: httpx.AsyncClient
) -> None:
    # alice follows bob: that lets alice see bob's followers-only posts, not bob alice's.
    alice, bob = await api.register(), await api.register()
    await api.follow(alice, bob)
    post = await api.post(alice, "for my followers", visibility="followers")
    assert (
        await client.get(f"/api/v1/content/{post['id']}", headers=bob.headers)
    ).status_code == 404


async def test_unknown_post_is_404(api: Api, client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/content/01890a5d-ac96-774b-bcce-b302099a8057")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


async def test_malformed_post_id_is_422(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/content/42")
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"


async def test_invalid_token_on_a_public_read_is_401(api: Api, client: httpx.AsyncClient) -> None:
    # A broken token is an error, not a silent downgrade to anonymous.
    alice = await api.register()
    post = await api.post(alice)
    r = await client.get(f"/api/v1/content/{post['id']}", headers={"Authorization": "Bearer junk"})
    assert r.status_code == 401
