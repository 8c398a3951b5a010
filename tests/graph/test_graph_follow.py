"""Follow and unfollow: idempotence, counts, and who may be followed."""

from __future__ import annotations

import uuid

import httpx

from tests.helpers import Account, Api


async def _counts(client: httpx.AsyncClient, user: Account) -> dict[str, int]:
    r = await client.get(f"/api/v1/users/{user.id}")
    assert r.status_code == 200, r.text
    counts: dict[str, int] = r.json()["counts"]
    return counts


async def test_follow_twice_answers_200_both_times_and_counts_once(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice, bob = await api.register(), await api.register()
    for _ in range(2):
        r = await client.post(f"/api/v1/users/{bob.id}/follow", headers=alice.headers)
        assert r.status_code == 200, r.text
        assert r.json() == {
            "following": True,
            "followed_by": False,
            "blocking": False,
            "muting": False,
        }
    assert (await _counts(client, bob))["followers_count"] == 1
    assert (await _counts(client, alice))["following_count"] == 1


async def test_unfollow_twice_answers_204_both_times(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    await api.follow(alice, bob)
    for _ in range(2):
        r = await client.delete(f"/api/v1/users/{bob.id}/follow", headers=alice.headers)
        assert r.status_code == 204, r.text
        assert r.content == b""
    assert (await _counts(client, bob))["followers_count"] == 0
    assert (await _counts(client, alice))["following_count"] == 0


async def test_unfollow_without_following_is_204(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    r = await client.delete(f"/api/v1/users/{bob.id}/follow", headers=alice.headers)
    assert r.status_code == 204


async def test_follow_back_shows_followed_by(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    await api.follow(alice, bob)
    r = await client.post(f"/api/v1/users/{alice.id}/follow", headers=bob.headers)
    assert r.status_code == 200
    assert r.json()["following"] is True
    assert r.json()["followed_by"] is True


async def test_follow_self_is_400(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    r = await client.post(f"/api/v1/users/{alice.id}/follow", headers=alice.headers)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "self_relationship"
    assert (await _counts(client, alice))["followers_count"] == 0


async def test_follow_unknown_user_is_404(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    r = await client.post(f"/api/v1/users/{uuid.uuid4()}/follow", headers=alice.headers)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


async def test_follow_with_malformed_id_is_422(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    r = await client.post("/api/v1/users/not-a-uuid/follow", headers=alice.headers)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"


async def test_follow_deleted_user_is_404(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    assert (await client.delete("/api/v1/users/me", headers=bob.headers)).status_code == 204
    r = await client.post(f"/api/v1/users/{bob.id}/follow", headers=alice.headers)
    assert r.status_code == 404


async def test_deleting_an_account_removes_its_follows(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob, carol = await api.register(), await api.register(), await api.register()
    await api.follow(alice, bob)
    await api.follow(bob, carol)
    assert (await client.delete("/api/v1/users/me", headers=bob.headers)).status_code == 204
    assert (await _counts(client, alice))["following_count"] == 0
    assert (await _counts(client, carol))["followers_count"] == 0


async def test_follow_requires_authentication(api: Api, client: httpx.AsyncClient) -> None:
    bob = await api.register()
    r = await client.post(f"/api/v1/users/{bob.id}/follow")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "authentication_required"
