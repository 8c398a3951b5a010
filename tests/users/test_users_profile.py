"""Profile read and update: /users/me, /users/{id}, /users/by-username/{name}."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.helpers import Api


async def test_me_returns_my_private_profile(api: Api) -> None:
    alice = await api.register("alice")
    r = await api.client.get("/api/v1/users/me", headers=alice.headers)
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["id"] == alice.id
    assert me["email"] == "alice@example.org"
    assert me["role"] == "user"
    assert set(me["counts"]) == {"followers_count", "following_count", "posts_count"}


async def test_me_requires_authentication(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/users/me")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert r.json()["error"]["code"] == "authentication_required"


@pytest.mark.parametrize(
    "authorization", ["Bearer not-a-jwt", "Basic YWxpY2U6c2VjcmV0", "Bearer", "token abc"]
)
async def test_me_rejects_bad_authorization_header(
    client: httpx.AsyncClient, authorization: str
) -> None:
    r = await client.get("/api/v1/users/me", headers={"Authorization": authorization})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert r.json()["error"]["code"] == "invalid_token"


async def test_update_profile_sets_fields_and_moves_updated_at(api: Api) -> None:
    alice = await api.register("alice")
    before = (await api.client.get("/api/v1/users/me", headers=alice.headers)).json()
    r = await api.client.patch(
        "/api/v1/users/me",
        json={
            "full_name": "Alice Liddell",
            "bio": "down the rabbit hole 🐇",
            "profile_pic_url": "https://cdn.example.org/a.png",
        },
        headers=alice.headers,
    )
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["full_name"] == "Alice Liddell"
    assert after["bio"] == "down the rabbit hole 🐇"
    assert after["profile_pic_url"] == "https://cdn.example.org/a.png"
    assert after["updated_at"] > before["updated_at"]
    assert after["created_at"] == before["created_at"]
    public = (await api.client.get(f"/api/v1/users/{alice.id}")).json()
    assert public["full_name"] == "Alice Liddell"
    assert public["profile_pic_url"] == "https://cdn.example.org/a.png"


async def test_update_profile_only_touches_given_fields(api: Api) -> None:
    alice = await api.register("alice")
    await api.client.patch(
        "/api/v1/users/me", json={"full_name": "Alice", "bio": "b"}, headers=alice.headers
    )
    r = await api.client.patch("/api/v1/users/me", json={"bio": "new"}, headers=alice.headers)
    assert r.status_code == 200, r.text
    assert r.json()["full_name"] == "Alice"
    assert r.json()["bio"] == "new"


async def test_update_profile_null_clears_a_field(api: Api) -> None:
    alice = await api.register("alice")
    await api.client.patch(
        "/api/v1/users/me",
        json={"profile_pic_url": "https://cdn.example.org/a.png"},
        headers=alice.headers,
    )
    r = await api.client.patch(
        "/api/v1/users/me", json={"profile_pic_url": None}, headers=alice.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["profile_pic_url"] is None


@pytest.mark.parametrize(
    "url", ["not a url", "ftp://example.org/a.png", "javascript:alert(1)", "https://", 42]
)
async def test_update_profile_rejects_bad_picture_url(api: Api, url: object) -> None:
    alice = await api.register("alice")
    r = await api.client.patch(
        "/api/v1/users/me", json={"profile_pic_url": url}, headers=alice.headers
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize(
    "payload",
    [{"username": "mallory"}, {"role": "admin"}, {"email": "x@example.org"}, {"bio": "b" * 1001}],
)
async def test_update_profile_rejects_fields_it_does_not_allow(
    api: Api, payload: dict[str, object]
) -> None:
    alice = await api.register("alice")
    r = await api.client.patch("/api/v1/users/me", json=payload, headers=alice.headers)
    assert r.status_code == 422, r.text
    me = (await api.client.get("/api/v1/users/me", headers=alice.headers)).json()
    assert me["username"] == "alice" and me["role"] == "user"


async def test_update_profile_requires_authentication(client: httpx.AsyncClient) -> None:
    r = await client.patch("/api/v1/users/me", json={"bio": "x"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "authentication_required"


async def test_profile_by_id_has_counts_and_no_private_fields(api: Api) -> None:
    alice = await api.register("alice")
    bob = await api.register("bob")
    carol = await api.register("carol")
    await api.follow(bob, alice)
    await api.follow(carol, alice)
    await api.follow(alice, bob)
    await api.post(alice, "one")
    await api.post(alice, "two")
    r = await api.client.get(f"/api/v1/users/{alice.id}")
    assert r.status_code == 200, r.text
    profile = r.json()
    assert profile["username"] == "alice"
    assert profile["counts"] == {"followers_count": 2, "following_count": 1, "posts_count": 2}
    assert "email" not in profile and "role" not in profile
    assert profile["relationship"] is None


async def test_profile_shows_the_viewers_relationship(api: Api) -> None:
    alice = await api.register("alice")
    bob = await api.register("bob")
    await api.follow(bob, alice)
    r = await api.client.get(f"/api/v1/users/{alice.id}", headers=bob.headers)
    assert r.status_code == 200, r.text
    assert r.json()["relationship"]["following"] is True
    assert r.json()["relationship"]["followed_by"] is False


async def test_profile_by_username_is_case_insensitive(api: Api) -> None:
    alice = await api.register("alice")
    r = await api.client.get("/api/v1/users/by-username/ALICE")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == alice.id
    assert "counts" in r.json()


async def test_profile_by_unknown_username_is_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/users/by-username/nobody")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


async def test_profile_by_unknown_id_is_404(client: httpx.AsyncClient) -> None:
    r = await client.get(f"/api/v1/users/{uuid.uuid4()}")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


async def test_profile_of_a_user_who_blocked_me_is_404(api: Api) -> None:
    alice = await api.register("alice")
    bob = await api.register("bob")
    await api.block(alice, bob)
    by_id = await api.client.get(f"/api/v1/users/{alice.id}", headers=bob.headers)
    by_name = await api.client.get("/api/v1/users/by-username/alice", headers=bob.headers)
    assert by_id.status_code == 404
    assert by_name.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"bio": "a\u0000b"},
        {"full_name": "nul\u0000name"},
        {"profile_pic_url": "https://example.org/" + "p" * 500},
    ],
    ids=["nul-bio", "nul-full-name", "overlong-picture-url"],
)
async def test_unstorable_profile_fields_are_rejected_with_422(
    api: Api, client: httpx.AsyncClient, body: dict[str, str]
) -> None:
    me = await api.register()
    r = await client.patch("/api/v1/users/me", json=body, headers=me.headers)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "validation_error"


async def test_nul_in_registration_full_name_is_rejected_with_422(
    client: httpx.AsyncClient,
) -> None:
    r = await client.post(
        "/api/v1/users",
        json={
            "username": "nulname",
            "email": "nul@example.org",
            "password": "password123",
            "full_name": "a\u0000b",
        },
    )
    assert r.status_code == 422, r.text
