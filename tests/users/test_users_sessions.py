"""Listing and ending my sessions: /api/v1/auth/sessions."""

from __future__ import annotations

import uuid

import httpx
import jwt

from tests.helpers import Account, Api

SESSIONS = "/api/v1/auth/sessions"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def session_id_of(access_token: str) -> str:
    sid: str = jwt.decode(access_token, options={"verify_signature": False})["sid"]
    return sid


async def list_sessions(client: httpx.AsyncClient, who: Account) -> list[dict[str, object]]:
    r = await client.get(SESSIONS, headers=who.headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, object]] = r.json()["items"]
    return items


async def test_sessions_lists_each_login_and_marks_the_current_one(api: Api) -> None:
    alice = await api.register("alice")
    other = await api.login("alice", alice.password)
    items = await list_sessions(api.client, alice)
    assert {i["id"] for i in items} == {
        session_id_of(alice.access_token),
        session_id_of(other["access_token"]),
    }
    current = [i["id"] for i in items if i["current"]]
    assert current == [session_id_of(alice.access_token)]


async def test_sessions_show_client_details(api: Api) -> None:
    alice = await api.register("alice")
    await api.client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "alice", "password": alice.password},
        headers={"User-Agent": "pytest-phone/1.0"},
    )
    items = await list_sessions(api.client, alice)
    assert "pytest-phone/1.0" in {i["user_agent"] for i in items}
    assert all(i["ip_address"] == "203.0.113.7" for i in items)
    assert all(i["expires_at"] > i["created_at"] for i in items)  # type: ignore[operator]


async def test_sessions_do_not_show_other_users_sessions(api: Api) -> None:
    alice = await api.register("alice")
    bob = await api.register("bob")
    items = await list_sessions(api.client, alice)
    assert session_id_of(bob.access_token) not in {i["id"] for i in items}
    assert len(items) == 1


async def test_sessions_require_authentication(client: httpx.AsyncClient) -> None:
    r = await client.get(SESSIONS)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"


async def test_ending_a_session_kills_its_tokens(api: Api) -> None:
    alice = await api.register("alice")
    other = await api.login("alice", alice.password)
    sid = session_id_of(other["access_token"])
    r = await api.client.delete(f"{SESSIONS}/{sid}", headers=alice.headers)
    assert r.status_code == 204, r.text
    assert (
        await api.client.get("/api/v1/users/me", headers=bearer(other["access_token"]))
    ).status_code == 401
    refreshed = await api.client.post(
        "/api/v1/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": other["refresh_token"]},
    )
    assert refreshed.status_code == 400
    assert refreshed.json()["error"] == "invalid_grant"
    assert sid not in {i["id"] for i in await list_sessions(api.client, alice)}


async def test_ending_my_current_session_logs_me_out(api: Api) -> None:
    alice = await api.register("alice")
    sid = session_id_of(alice.access_token)
    r = await api.client.delete(f"{SESSIONS}/{sid}", headers=alice.headers)
    assert r.status_code == 204
    assert (await api.client.get("/api/v1/users/me", headers=alice.headers)).status_code == 401


async def test_ending_another_users_session_is_404(api: Api) -> None:
    alice = await api.register("alice")
    bob = await api.register("bob")
    r = await api.client.delete(
        f"{SESSIONS}/{session_id_of(bob.access_token)}", headers=alice.headers
    )
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    assert (await api.client.get("/api/v1/users/me", headers=bob.headers)).status_code == 200


async def test_ending_an_unknown_session_is_404(api: Api) -> None:
    alice = await api.register("alice")
    r = await api.client.delete(f"{SESSIONS}/{uuid.uuid4()}", headers=alice.headers)
    assert r.status_code == 404


async def test_ending_an_ended_session_is_404(api: Api) -> None:
    alice = await api.register("alice")
    other = await api.login("alice", alice.password)
    sid = session_id_of(other["access_token"])
    assert (await api.client.delete(f"{SESSIONS}/{sid}", headers=alice.headers)).status_code == 204
    assert (await api.client.delete(f"{SESSIONS}/{sid}", headers=alice.headers)).status_code == 404


async def test_ending_a_session_with_a_malformed_id_is_422(api: Api) -> None:
    alice = await api.register("alice")
    r = await api.client.delete(f"{SESSIONS}/not-a-uuid", headers=alice.headers)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"


async def test_sessions_are_paginated_newest_first(api: Api) -> None:
    alice = await api.register("alice")
    logins = [await api.login("alice", alice.password) for _ in range(4)]
    expected = [session_id_of(t["access_token"]) for t in reversed(logins)]
    expected.append(session_id_of(alice.access_token))
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        params: dict[str, str | int] = {"size": 2, **({"cursor": cursor} if cursor else {})}
        r = await api.client.get(SESSIONS, params=params, headers=alice.headers)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= 2
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected


async def test_sessions_page_size_is_capped_at_50(api: Api) -> None:
    alice = await api.register("alice")
    r = await api.client.get(SESSIONS, params={"size": 51}, headers=alice.headers)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"


async def test_sessions_bad_cursor_is_400(api: Api) -> None:
    alice = await api.register("alice")
    r = await api.client.get(SESSIONS, params={"cursor": "%%%"}, headers=alice.headers)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_cursor"
