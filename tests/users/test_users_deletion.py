"""Soft account deletion: the account and everything it wrote vanish from every read."""

from __future__ import annotations

from tests.helpers import Account, Api


async def delete_account(api: Api, who: Account) -> None:
    r = await api.client.delete("/api/v1/users/me", headers=who.headers)
    assert r.status_code == 204, r.text
    assert r.content == b""


async def test_deleted_profile_is_404_by_id_and_by_username(api: Api) -> None:
    alice = await api.register("alice")
    bob = await api.register("bob")
    await delete_account(api, alice)
    for path in (f"/api/v1/users/{alice.id}", "/api/v1/users/by-username/alice"):
        anonymous = await api.client.get(path)
        as_bob = await api.client.get(path, headers=bob.headers)
        assert anonymous.status_code == 404, path
        assert as_bob.status_code == 404, path
        assert anonymous.json()["error"]["code"] == "not_found"


async def test_deleted_account_cannot_log_in(api: Api) -> None:
    alice = await api.register("alice")
    await delete_account(api, alice)
    for login in ("alice", "alice@example.org"):
        r = await api.client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": login, "password": alice.password},
        )
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "invalid_grant"


async def test_deleted_accounts_access_token_is_401(api: Api) -> None:
    alice = await api.register("alice")
    await delete_account(api, alice)
    r = await api.client.get("/api/v1/users/me", headers=alice.headers)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invalid_token"


async def test_deleted_accounts_refresh_token_is_invalid_grant(api: Api) -> None:
    alice = await api.register("alice")
    await delete_account(api, alice)
    r = await api.client.post(
        "/api/v1/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": alice.refresh_token},
    )
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"


async def test_delete_ends_every_session_of_the_account(api: Api) -> None:
    alice = await api.register("alice")
    other = await api.login("alice", alice.password)
    await delete_account(api, alice)
    r = await api.client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {other['access_token']}"}
    )
    assert r.status_code == 401


async def test_delete_requires_authentication(api: Api) -> None:
    r = await api.client.delete("/api/v1/users/me")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"


async def test_deleted_accounts_posts_are_404(api: Api) -> None:
    alice = await api.register("alice")
    bob = await api.register("bob")
    post = await api.post(alice, "soon gone")
    await delete_account(api, alice)
    anonymous = await api.client.get(f"/api/v1/content/{post['id']}")
    as_bob = await api.client.get(f"/api/v1/content/{post['id']}", headers=bob.headers)
    assert anonymous.status_code == 404
    assert as_bob.status_code == 404


async def test_deleted_accounts_posts_leave_followers_feeds(api: Api) -> None:
    alice = await api.register("alice")
    bob = await api.register("bob")
    await api.follow(bob, alice)
    gone = await api.post(alice, "soon gone")
    kept = await api.post(bob, "still here")
    assert {i["id"] for i in (await api.feed(bob))["items"]} == {gone["id"], kept["id"]}
    await delete_account(api, alice)
    feed = await api.feed(bob)
    assert [i["id"] for i in feed["items"]] == [kept["id"]]
    assert feed["total"] == 1


async def test_deleted_accounts_author_list_is_gone(api: Api) -> None:
    alice = await api.register("alice")
    bob = await api.register("bob")
    await api.post(alice, "soon gone")
    await delete_account(api, alice)
    r = await api.client.get(f"/api/v1/users/{alice.id}/content", headers=bob.headers)
    assert r.status_code == 404


async def test_deleted_account_leaves_follow_lists_and_counts(api: Api) -> None:
    alice = await api.register("alice")
    bob = await api.register("bob")
    carol = await api.register("carol")
    await api.follow(alice, bob)
    await api.follow(carol, alice)
    await api.follow(bob, carol)
    before = (await api.client.get(f"/api/v1/users/{bob.id}")).json()["counts"]
    assert before["followers_count"] == 1
    await delete_account(api, alice)
    bob_counts = (await api.client.get(f"/api/v1/users/{bob.id}")).json()["counts"]
    carol_counts = (await api.client.get(f"/api/v1/users/{carol.id}")).json()["counts"]
    assert bob_counts["followers_count"] == 0
    assert carol_counts["following_count"] == 0
    assert carol_counts["followers_count"] == 1  # bob still follows carol
    followers = (await api.client.get(f"/api/v1/users/{bob.id}/followers")).json()
    following = (await api.client.get(f"/api/v1/users/{carol.id}/following")).json()
    assert followers["items"] == []
    assert following["items"] == []


async def test_deleted_accounts_likes_stop_counting(api: Api) -> None:
    alice = await api.register("alice")
    bob = await api.register("bob")
    post = await api.post(bob, "like me")
    r = await api.client.post(f"/api/v1/content/{post['id']}/like", headers=alice.headers)
    assert r.status_code == 200, r.text
    await delete_account(api, alice)
    after = (await api.client.get(f"/api/v1/content/{post['id']}", headers=bob.headers)).json()
    assert after["engagement"]["likes_count"] == 0


async def test_deleted_accounts_email_stays_reserved(api: Api) -> None:
    """Soft delete keeps the row, so its unique e-mail cannot be re-registered."""
    alice = await api.register("alice")
    await delete_account(api, alice)
    r = await api.client.post(
        "/api/v1/users",
        json={"username": "alice2", "email": "alice@example.org", "password": "correct horse 1"},
    )
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "email_taken"
