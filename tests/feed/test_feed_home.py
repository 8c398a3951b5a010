"""Home feed contents: whose posts, which visibilities, what is hidden, filters."""

from __future__ import annotations

import httpx

from tests.helpers import Account, Api


async def _ids(api: Api, viewer: Account, **params: object) -> list[str]:
    return [item["id"] for item in (await api.feed(viewer, **params))["items"]]


async def test_feed_has_documented_shape(api: Api) -> None:
    me = await api.register()
    post = await api.post(me)
    body = await api.feed(me)
    assert set(body) >= {"items", "page", "total", "has_more", "next_cursor"}
    assert body["page"] == 1
    assert body["total"] == 1
    assert body["has_more"] is False
    assert body["next_cursor"] is None
    [item] = body["items"]
    assert item["id"] == post["id"]
    assert item["author"]["id"] == me.id
    assert item["viewer"] == {"liked": False, "shared": False}
    assert set(item["engagement"]) == {
        "likes_count",
        "comments_count",
        "shares_count",
        "views_count",
    }


async def test_empty_feed(api: Api) -> None:
    me = await api.register()
    body = await api.feed(me)
    assert body["items"] == []
    assert body["total"] == 0
    assert body["has_more"] is False


async def test_feed_has_own_and_followed_posts_newest_first(api: Api) -> None:
    me, friend, stranger = await api.register(), await api.register(), await api.register()
    await api.follow(me, friend)
    made = [
        await api.post(me, "mine 1"),
        await api.post(friend, "friend 1"),
        await api.post(stranger, "stranger"),
        await api.post(friend, "friend 2"),
        await api.post(me, "mine 2"),
    ]
    expected = [made[4]["id"], made[3]["id"], made[1]["id"], made[0]["id"]]
    assert await _ids(api, me) == expected


async def test_posts_from_before_the_follow_are_included(api: Api) -> None:
    me, friend = await api.register(), await api.register()
    old = await api.post(friend, "before we met")
    await api.follow(me, friend)
    assert await _ids(api, me) == [old["id"]]


async def test_followers_only_posts_of_followed_authors_are_included(api: Api) -> None:
    me, friend = await api.register(), await api.register()
    await api.follow(me, friend)
    post = await api.post(friend, visibility="followers")
    assert await _ids(api, me) == [post["id"]]


async def test_private_posts_of_others_never_appear(api: Api) -> None:
    me, friend = await api.register(), await api.register()
    await api.follow(me, friend)
    await api.follow(friend, me)
    await api.post(friend, visibility="private")
    assert await _ids(api, me) == []


async def test_own_private_and_followers_posts_appear(api: Api) -> None:
    me = await api.register()
    a = await api.post(me, visibility="private")
    b = await api.post(me, visibility="followers")
    assert await _ids(api, me) == [b["id"], a["id"]]


async def test_not_followed_authors_never_appear(api: Api) -> None:
    me, fan = await api.register(), await api.register()
    # Being followed is not following.
    await api.follow(fan, me)
    await api.post(fan)
    assert await _ids(api, me) == []


async def test_unfollowed_authors_disappear(api: Api, client: httpx.AsyncClient) -> None:
    me, friend = await api.register(), await api.register()
    await api.follow(me, friend)
    await api.post(friend)
    r = await client.delete(f"/api/v1/users/{friend.id}/follow", headers=me.headers)
    assert r.status_code == 204
    assert await _ids(api, me) == []


async def test_muted_authors_are_excluded(api: Api, client: httpx.AsyncClient) -> None:
    me, friend = await api.register(), await api.register()
    await api.follow(me, friend)
    post = await api.post(friend)
    await api.mute(me, friend)
    body = await api.feed(me)
    assert body["items"] == []
    assert body["total"] == 0
    r = await client.delete(f"/api/v1/users/{friend.id}/mute", headers=me.headers)
    assert r.status_code == 204
    assert await _ids(api, me) == [post["id"]]


async def test_mute_only_affects_the_muter(api: Api) -> None:
    me, friend, other = await api.register(), await api.register(), await api.register()
    await api.follow(me, friend)
    await api.follow(other, friend)
    post = await api.post(friend)
    await api.mute(other, friend)
    assert await _ids(api, me) == [post["id"]]
    assert await _ids(api, other) == []


async def test_authors_i_blocked_are_excluded(api: Api) -> None:
    me, friend = await api.register(), await api.register()
    await api.follow(me, friend)
    await api.post(friend)
    await api.block(me, friend)
    assert (await api.feed(me))["total"] == 0


async def test_authors_who_blocked_me_are_excluded(api: Api) -> None:
    me, friend = await api.register(), await api.register()
    await api.follow(me, friend)
    await api.post(friend)
    await api.block(friend, me)
    assert (await api.feed(me))["total"] == 0


async def test_block_does_not_come_back_after_unblock(api: Api, client: httpx.AsyncClient) -> None:
    """A block removed the follow, so unblocking alone does not restore the posts."""
    me, friend = await api.register(), await api.register()
    await api.follow(me, friend)
    await api.post(friend)
    await api.block(me, friend)
    r = await client.delete(f"/api/v1/users/{friend.id}/block", headers=me.headers)
    assert r.status_code == 204
    assert await _ids(api, me) == []


async def test_deleted_posts_are_excluded(api: Api, client: httpx.AsyncClient) -> None:
    me, friend = await api.register(), await api.register()
    await api.follow(me, friend)
    kept = await api.post(friend, "kept")
    gone = await api.post(friend, "gone")
    mine = await api.post(me, "mine gone")
    for author, post in ((friend, gone), (me, mine)):
        r = await client.delete(f"/api/v1/content/{post['id']}", headers=author.headers)
        assert r.status_code == 204
    body = await api.feed(me)
    assert [i["id"] for i in body["items"]] == [kept["id"]]
    assert body["total"] == 1


async def test_deleted_accounts_are_excluded(api: Api, client: httpx.AsyncClient) -> None:
    me, friend, other = await api.register(), await api.register(), await api.register()
    await api.follow(me, friend)
    await api.follow(me, other)
    await api.post(friend)
    kept = await api.post(other)
    r = await client.delete("/api/v1/users/me", headers=friend.headers)
    assert r.status_code == 204
    body = await api.feed(me)
    assert [i["id"] for i in body["items"]] == [kept["id"]]
    assert body["total"] == 1


async def test_post_becoming_private_leaves_followers_feed(
    api: Api, client: httpx.AsyncClient
) -> None:
    me, friend = await api.register(), await api.register()
    await api.follow(me, friend)
    post = await api.post(friend)
    r = await client.patch(
        f"/api/v1/content/{post['id']}", json={"visibility": "private"}, headers=friend.headers
    )
    assert r.status_code == 200
    assert await _ids(api, me) == []


async def test_filter_following_excludes_own_posts(api: Api) -> None:
    me, friend = await api.register(), await api.register()
    await api.follow(me, friend)
    await api.post(me)
    theirs = await api.post(friend)
    body = await api.feed(me, filter="following")
    assert [i["id"] for i in body["items"]] == [theirs["id"]]
    assert body["total"] == 1


async def test_filter_following_with_no_follows_is_empty(api: Api) -> None:
    me = await api.register()
    await api.post(me)
    assert await _ids(api, me, filter="following") == []


async def test_filter_link_shows_only_link_posts(api: Api) -> None:
    me, friend = await api.register(), await api.register()
    await api.follow(me, friend)
    await api.post(me, "plain")
    link = await api.post(
        friend, "read this", content_type="link", link_url="https://example.org/a"
    )
    mine = await api.post(me, "mine", content_type="link", link_url="https://example.org/b")
    body = await api.feed(me, filter="link")
    assert [i["id"] for i in body["items"]] == [mine["id"], link["id"]]
    assert body["total"] == 2
    assert all(i["content_type"] == "link" for i in body["items"])


async def test_filter_text_hides_link_posts(api: Api) -> None:
    me = await api.register()
    text = await api.post(me, "plain")
    await api.post(me, "l", content_type="link", link_url="https://example.org/")
    assert await _ids(api, me, filter="text") == [text["id"]]


async def test_filter_all_is_the_default(api: Api) -> None:
    me = await api.register()
    await api.post(me, "plain")
    await api.post(me, "l", content_type="link", link_url="https://example.org/")
    assert await _ids(api, me, filter="all") == await _ids(api, me)


async def test_bad_filter_is_422(api: Api, client: httpx.AsyncClient) -> None:
    me = await api.register()
    r = await client.get("/api/v1/feed", params={"filter": "bogus"}, headers=me.headers)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"


async def test_anonymous_feed_is_401(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/feed")
    assert r.status_code == 401
    assert set(r.json()["error"]) == {"code", "message", "details"}


async def test_bad_token_feed_is_401(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/feed", headers={"Authorization": "Bearer not.a.jwt"})
    assert r.status_code == 401


async def test_feed_shows_live_counters(api: Api) -> None:
    me, friend = await api.register(), await api.register()
    await api.follow(me, friend)
    post = await api.post(friend)
    await api.like(friend, post["id"])
    await api.comment(me, post["id"])
    [item] = (await api.feed(me))["items"]
    assert item["engagement"]["likes_count"] == 1
    assert item["engagement"]["comments_count"] == 1
    assert item["viewer"]["liked"] is False
