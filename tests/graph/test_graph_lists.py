"""Followers/following lists, my blocks and mutes, and the relationship on a profile."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import Account, Api


async def _all_pages(
    client: httpx.AsyncClient, path: str, viewer: Account | None, size: int
) -> list[list[str]]:
    """Every page's user ids, following next_cursor to the end."""
    headers = viewer.headers if viewer else {}
    pages: list[list[str]] = []
    params: dict[str, Any] = {"size": size}
    while True:
        r = await client.get(path, params=params, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        pages.append([i["user"]["id"] for i in body["items"]])
        if body["next_cursor"] is None:
            return pages
        params["cursor"] = body["next_cursor"]
        assert len(pages) < 20, "pagination does not terminate"


async def test_followers_pages_newest_first_without_gaps(
    api: Api, client: httpx.AsyncClient
) -> None:
    star = await api.register()
    fans = [await api.register() for _ in range(5)]
    for fan in fans:
        await api.follow(fan, star)
    pages = await _all_pages(client, f"/api/v1/users/{star.id}/followers", None, 2)
    assert all(len(p) <= 2 for p in pages)
    assert len(pages) >= 3
    assert [uid for page in pages for uid in page] == [f.id for f in reversed(fans)]


async def test_following_pages_newest_first_without_gaps(
    api: Api, client: httpx.AsyncClient
) -> None:
    fan = await api.register()
    stars = [await api.register() for _ in range(5)]
    for star in stars:
        await api.follow(fan, star)
    pages = await _all_pages(client, f"/api/v1/users/{fan.id}/following", fan, 2)
    assert [uid for page in pages for uid in page] == [s.id for s in reversed(stars)]


async def test_list_items_carry_user_summary_and_since(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    await api.follow(alice, bob)
    r = await client.get(f"/api/v1/users/{bob.id}/followers")
    [item] = r.json()["items"]
    assert item["user"]["id"] == alice.id
    assert item["user"]["username"] == alice.username
    assert item["since"]


async def test_refollow_moves_to_the_top(api: Api, client: httpx.AsyncClient) -> None:
    star, a, b = await api.register(), await api.register(), await api.register()
    await api.follow(a, star)
    await api.follow(b, star)
    assert (
        await client.delete(f"/api/v1/users/{star.id}/follow", headers=a.headers)
    ).status_code == 204
    await api.follow(a, star)
    r = await client.get(f"/api/v1/users/{star.id}/followers")
    assert [i["user"]["id"] for i in r.json()["items"]] == [a.id, b.id]


@pytest.mark.parametrize("listing", ["followers", "following"])
@pytest.mark.parametrize(("size", "status"), [(50, 200), (51, 422), (0, 422)])
async def test_list_page_size_is_capped_at_50(
    api: Api, client: httpx.AsyncClient, listing: str, size: int, status: int
) -> None:
    alice = await api.register()
    r = await client.get(f"/api/v1/users/{alice.id}/{listing}", params={"size": size})
    assert r.status_code == status
    if status == 422:
        assert r.json()["error"]["code"] == "validation_error"


async def test_list_with_garbage_cursor_is_400(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    r = await client.get(f"/api/v1/users/{alice.id}/followers", params={"cursor": "!!nope!!"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_cursor"


async def test_lists_of_unknown_user_are_404(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    assert (await client.delete("/api/v1/users/me", headers=alice.headers)).status_code == 204
    for listing in ("followers", "following", "content"):
        r = await client.get(f"/api/v1/users/{alice.id}/{listing}")
        assert r.status_code == 404, listing


async def test_deleted_follower_leaves_the_list(api: Api, client: httpx.AsyncClient) -> None:
    star, a, b = await api.register(), await api.register(), await api.register()
    await api.follow(a, star)
    await api.follow(b, star)
    assert (await client.delete("/api/v1/users/me", headers=a.headers)).status_code == 204
    r = await client.get(f"/api/v1/users/{star.id}/followers")
    assert [i["user"]["id"] for i in r.json()["items"]] == [b.id]


async def test_blocked_followers_are_filtered_across_pages(
    api: Api, client: httpx.AsyncClient
) -> None:
    star, viewer = await api.register(), await api.register()
    fans = [await api.register() for _ in range(5)]
    for fan in fans:
        await api.follow(fan, star)
    await api.block(viewer, fans[1])
    await api.block(fans[3], viewer)
    pages = await _all_pages(client, f"/api/v1/users/{star.id}/followers", viewer, 2)
    seen = [uid for page in pages for uid in page]
    assert seen == [fans[4].id, fans[2].id, fans[0].id]


async def test_blocked_followees_are_filtered_from_following_lists(
    api: Api, client: httpx.AsyncClient
) -> None:
    fan, viewer = await api.register(), await api.register()
    stars = [await api.register() for _ in range(3)]
    for star in stars:
        await api.follow(fan, star)
    await api.block(stars[0], viewer)
    pages = await _all_pages(client, f"/api/v1/users/{fan.id}/following", viewer, 2)
    assert [uid for page in pages for uid in page] == [stars[2].id, stars[1].id]


async def test_my_blocks_lists_newest_first_with_pagination(
    api: Api, client: httpx.AsyncClient
) -> None:
    me = await api.register()
    others = [await api.register() for _ in range(3)]
    for other in others:
        await api.block(me, other)
    pages = await _all_pages(client, "/api/v1/me/blocks", me, 2)
    assert [uid for page in pages for uid in page] == [o.id for o in reversed(others)]
    # Somebody else's block list is their own business.
    r = await client.get("/api/v1/me/blocks", headers=others[0].headers)
    assert r.json()["items"] == []


async def test_my_mutes_lists_newest_first_with_pagination(
    api: Api, client: httpx.AsyncClient
) -> None:
    me = await api.register()
    others = [await api.register() for _ in range(3)]
    for other in others:
        await api.mute(me, other)
    pages = await _all_pages(client, "/api/v1/me/mutes", me, 2)
    assert [uid for page in pages for uid in page] == [o.id for o in reversed(others)]


async def test_unmuted_user_leaves_my_mutes(api: Api, client: httpx.AsyncClient) -> None:
    me, other = await api.register(), await api.register()
    await api.mute(me, other)
    assert (
        await client.delete(f"/api/v1/users/{other.id}/mute", headers=me.headers)
    ).status_code == 204
    r = await client.get("/api/v1/me/mutes", headers=me.headers)
    assert r.json()["items"] == []


async def test_my_mutes_hides_someone_who_blocked_me(api: Api, client: httpx.AsyncClient) -> None:
    me, other = await api.register(), await api.register()
    await api.mute(me, other)
    await api.block(other, me)
    # other must vanish from every read of mine, my own mute list included.
    r = await client.get("/api/v1/me/mutes", headers=me.headers)
    assert r.json()["items"] == []


@pytest.mark.parametrize("path", ["/api/v1/me/blocks", "/api/v1/me/mutes"])
async def test_my_lists_need_authentication(client: httpx.AsyncClient, path: str) -> None:
    r = await client.get(path)
    assert r.status_code == 401


@pytest.mark.parametrize("path", ["/api/v1/me/blocks", "/api/v1/me/mutes"])
async def test_my_lists_cap_page_size(api: Api, client: httpx.AsyncClient, path: str) -> None:
    me = await api.register()
    assert (await client.get(path, params={"size": 51}, headers=me.headers)).status_code == 422


async def test_profile_relationship_for_a_logged_in_viewer(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice, bob = await api.register(), await api.register()
    await api.follow(alice, bob)
    await api.follow(bob, alice)
    await api.mute(alice, bob)
    r = await client.get(f"/api/v1/users/{bob.id}", headers=alice.headers)
    assert r.json()["relationship"] == {
        "following": True,
        "followed_by": True,
        "blocking": False,
        "muting": True,
    }
    assert r.json()["counts"]["followers_count"] == 1
    assert r.json()["counts"]["following_count"] == 1


async def test_profile_relationship_shows_my_block(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    await api.block(alice, bob)
    # The profile itself is hidden, but the block endpoint answers with the relationship.
    r = await client.post(f"/api/v1/users/{bob.id}/block", headers=alice.headers)
    assert r.json()["blocking"] is True


async def test_profile_has_no_relationship_for_anonymous_or_self(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice = await api.register()
    assert (await client.get(f"/api/v1/users/{alice.id}")).json()["relationship"] is None
    r = await client.get(f"/api/v1/users/{alice.id}", headers=alice.headers)
    assert r.json()["relationship"] is None
