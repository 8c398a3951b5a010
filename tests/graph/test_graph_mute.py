"""Muting: the muted author leaves my home feed, and nothing else changes."""

from __future__ import annotations

import httpx

from tests.helpers import Api


async def test_mute_hides_the_authors_posts_from_my_feed(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice, bob, carol = await api.register(), await api.register(), await api.register()
    await api.follow(alice, bob)
    await api.follow(alice, carol)
    await api.post(bob, "bob speaks")
    kept = await api.post(carol, "carol speaks")
    await api.mute(alice, bob)
    feed = await api.feed(alice)
    assert [i["id"] for i in feed["items"]] == [kept["id"]]
    assert feed["total"] == 1


async def test_mute_keeps_the_follow(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    await api.follow(alice, bob)
    r = await client.post(f"/api/v1/users/{bob.id}/mute", headers=alice.headers)
    assert r.status_code == 200
    assert r.json() == {"following": True, "followed_by": False, "blocking": False, "muting": True}


async def test_muted_author_is_still_readable_directly(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    await api.follow(alice, bob)
    post = await api.post(bob, "only for followers", visibility="followers")
    await api.mute(alice, bob)
    r = await client.get(f"/api/v1/content/{post['id']}", headers=alice.headers)
    assert r.status_code == 200
    r = await client.get(f"/api/v1/users/{bob.id}/content", headers=alice.headers)
    assert [i["id"] for i in r.json()["items"]] == [post["id"]]
    r = await client.get(f"/api/v1/users/{bob.id}", headers=alice.headers)
    assert r.status_code == 200
    assert r.json()["relationship"]["muting"] is True


async def test_mute_is_invisible_to_the_muted_user(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    own = await api.post(alice, "alice still posts")
    await api.follow(bob, alice)
    await api.mute(alice, bob)
    # bob still sees alice everywhere and nothing tells him he is muted.
    assert [i["id"] for i in (await api.feed(bob))["items"]] == [own["id"]]
    r = await client.get(f"/api/v1/users/{alice.id}", headers=bob.headers)
    assert r.json()["relationship"] == {
        "following": True,
        "followed_by": False,
        "blocking": False,
        "muting": False,
    }


async def test_unmute_restores_the_feed(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    await api.follow(alice, bob)
    post = await api.post(bob, "bob speaks")
    await api.mute(alice, bob)
    for _ in range(2):  # unmute is idempotent
        r = await client.delete(f"/api/v1/users/{bob.id}/mute", headers=alice.headers)
        assert r.status_code == 204
    assert [i["id"] for i in (await api.feed(alice))["items"]] == [post["id"]]


async def test_mute_twice_is_idempotent(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    await api.mute(alice, bob)
    await api.mute(alice, bob)
    r = await client.get("/api/v1/me/mutes", headers=alice.headers)
    assert [i["user"]["id"] for i in r.json()["items"]] == [bob.id]


async def test_mute_self_is_400(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    r = await client.post(f"/api/v1/users/{alice.id}/mute", headers=alice.headers)
    assert r.status_code == 400
