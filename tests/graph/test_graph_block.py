"""Blocking: follows end both ways and each side disappears from the other's reads."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import Account, Api


async def _profile(
    client: httpx.AsyncClient, user: Account, viewer: Account | None = None
) -> httpx.Response:
    headers = viewer.headers if viewer else {}
    return await client.get(f"/api/v1/users/{user.id}", headers=headers)


async def test_block_removes_follows_both_ways(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    await api.follow(alice, bob)
    await api.follow(bob, alice)
    r = await client.post(f"/api/v1/users/{bob.id}/block", headers=alice.headers)
    assert r.status_code == 200
    assert r.json() == {"following": False, "followed_by": False, "blocking": True, "muting": False}
    for user in (alice, bob):
        counts = (await _profile(client, user)).json()["counts"]
        assert counts["followers_count"] == 0
        assert counts["following_count"] == 0


async def test_block_twice_is_idempotent(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    for _ in range(2):
        r = await client.post(f"/api/v1/users/{bob.id}/block", headers=alice.headers)
        assert r.status_code == 200
    r = await client.get("/api/v1/me/blocks", headers=alice.headers)
    assert [i["user"]["id"] for i in r.json()["items"]] == [bob.id]


async def test_block_self_is_400(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    r = await client.post(f"/api/v1/users/{alice.id}/block", headers=alice.headers)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "self_relationship"


@pytest.mark.parametrize("side", ["blocker", "blocked"])
async def test_after_block_each_side_gets_404_on_the_others_profile(
    api: Api, client: httpx.AsyncClient, side: str
) -> None:
    alice, bob = await api.register(), await api.register()
    await api.block(alice, bob)
    viewer, other = (alice, bob) if side == "blocker" else (bob, alice)
    r = await _profile(client, other, viewer)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    r = await client.get(f"/api/v1/users/by-username/{other.username}", headers=viewer.headers)
    assert r.status_code == 404


@pytest.mark.parametrize("side", ["blocker", "blocked"])
@pytest.mark.parametrize("listing", ["content", "followers", "following"])
async def test_after_block_each_side_gets_404_on_the_others_lists(
    api: Api, client: httpx.AsyncClient, side: str, listing: str
) -> None:
    alice, bob = await api.register(), await api.register()
    await api.post(alice, "alice's public post")
    await api.post(bob, "bob's public post")
    await api.block(alice, bob)
    viewer, other = (alice, bob) if side == "blocker" else (bob, alice)
    r = await client.get(f"/api/v1/users/{other.id}/{listing}", headers=viewer.headers)
    assert r.status_code == 404


async def test_blocked_user_disappears_from_third_party_follower_lists(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice, bob, carol = await api.register(), await api.register(), await api.register()
    await api.follow(bob, carol)
    await api.follow(alice, carol)
    await api.block(alice, bob)
    r = await client.get(f"/api/v1/users/{carol.id}/followers", headers=alice.headers)
    assert [i["user"]["id"] for i in r.json()["items"]] == [alice.id]
    # …and the blocker vanishes from the lists the blocked user reads, too.
    r = await client.get(f"/api/v1/users/{carol.id}/followers", headers=bob.headers)
    assert [i["user"]["id"] for i in r.json()["items"]] == [bob.id]
    # Anyone else still sees both.
    r = await client.get(f"/api/v1/users/{carol.id}/followers")
    assert {i["user"]["id"] for i in r.json()["items"]} == {alice.id, bob.id}


async def test_blocked_user_cannot_follow_the_blocker(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    await api.block(alice, bob)
    r = await client.post(f"/api/v1/users/{alice.id}/follow", headers=bob.headers)
    # 404, as if the account did not exist: the block is not revealed.
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


async def test_blocker_cannot_follow_the_blocked_user(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    await api.block(alice, bob)
    r = await client.post(f"/api/v1/users/{bob.id}/follow", headers=alice.headers)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "blocking"


async def test_blocked_user_cannot_mute_the_blocker(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    await api.block(alice, bob)
    r = await client.post(f"/api/v1/users/{alice.id}/mute", headers=bob.headers)
    assert r.status_code == 404


async def test_blocked_user_can_block_back(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    await api.block(alice, bob)
    # Mutual blocks are allowed so that bob stays protected if alice unblocks him later.
    r = await client.post(f"/api/v1/users/{alice.id}/block", headers=bob.headers)
    assert r.status_code == 200
    assert r.json()["blocking"] is True
    assert (
        await client.delete(f"/api/v1/users/{bob.id}/block", headers=alice.headers)
    ).status_code == 204
    assert (await _profile(client, alice, bob)).status_code == 404
    assert (await _profile(client, bob, alice)).status_code == 404


async def test_unblock_restores_visibility_but_not_follows(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice, bob = await api.register(), await api.register()
    await api.follow(alice, bob)
    await api.follow(bob, alice)
    post = await api.post(bob, "bob again")
    await api.block(alice, bob)
    for _ in range(2):  # unblock is idempotent
        r = await client.delete(f"/api/v1/users/{bob.id}/block", headers=alice.headers)
        assert r.status_code == 204
    r = await _profile(client, bob, alice)
    assert r.status_code == 200
    assert r.json()["relationship"] == {
        "following": False,
        "followed_by": False,
        "blocking": False,
        "muting": False,
    }
    assert r.json()["counts"]["followers_count"] == 0
    assert (await _profile(client, alice, bob)).status_code == 200
    r = await client.get(f"/api/v1/content/{post['id']}", headers=alice.headers)
    assert r.status_code == 200
    # And following is possible again.
    await api.follow(alice, bob)


async def test_block_hides_each_others_posts_in_the_feed(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice, bob = await api.register(), await api.register()
    await api.follow(alice, bob)
    await api.post(bob, "from bob")
    await api.block(bob, alice)
    # A later follow attempt is refused, so the feed can never show bob's posts again.
    assert (
        await client.post(f"/api/v1/users/{bob.id}/follow", headers=alice.headers)
    ).status_code == 404
    assert (await api.feed(alice))["items"] == []


async def test_block_unknown_user_is_404(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    assert (await client.delete("/api/v1/users/me", headers=bob.headers)).status_code == 204
    r = await client.post(f"/api/v1/users/{bob.id}/block", headers=alice.headers)
    assert r.status_code == 404
