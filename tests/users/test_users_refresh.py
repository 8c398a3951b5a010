"""Refresh-token rotation, reuse detection (RFC 9700 §4.14.2), expiry and revocation (RFC 7009)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from snsfeed.platform.security import hash_opaque_token
from snsfeed.platform.time import utcnow
from snsfeed.users.models import RefreshToken
from tests.helpers import Account, Api

TOKEN = "/api/v1/auth/token"
REVOKE = "/api/v1/auth/revoke"


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": token})


def assert_invalid_grant(r: httpx.Response) -> None:
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_grant"
    assert r.headers["Cache-Control"] == "no-store"


async def me_status(client: httpx.AsyncClient, access_token: str) -> int:
    r = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {access_token}"})
    return r.status_code


async def rotate(client: httpx.AsyncClient, who: Account) -> dict[str, Any]:
    r = await refresh(client, who.refresh_token)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_refresh_rotates_the_refresh_token(api: Api) -> None:
    alice = await api.register("alice")
    fresh = await rotate(api.client, alice)
    assert fresh["refresh_token"] != alice.refresh_token
    assert fresh["access_token"] != alice.access_token
    assert fresh["expires_in"] == 900
    assert await me_status(api.client, fresh["access_token"]) == 200
    again = await refresh(api.client, fresh["refresh_token"])
    assert again.status_code == 200, again.text


async def test_refresh_keeps_the_same_session(api: Api) -> None:
    alice = await api.register("alice")
    fresh = await rotate(api.client, alice)
    r = await api.client.get(
        "/api/v1/auth/sessions", headers={"Authorization": f"Bearer {fresh['access_token']}"}
    )
    assert r.status_code == 200
    assert len(r.json()["items"]) == 1
    assert r.json()["items"][0]["current"] is True


async def test_reused_refresh_token_is_invalid_grant_and_revokes_the_session(api: Api) -> None:
    alice = await api.register("alice")
    fresh = await rotate(api.client, alice)
    replay = await refresh(api.client, alice.refresh_token)
    assert_invalid_grant(replay)
    # The legitimate holder's newest tokens die with the session.
    assert_invalid_grant(await refresh(api.client, fresh["refresh_token"]))
    assert await me_status(api.client, fresh["access_token"]) == 401
    assert await me_status(api.client, alice.access_token) == 401


async def test_reuse_revokes_only_that_session(api: Api) -> None:
    alice = await api.register("alice")
    other = await api.login("alice", alice.password)
    await rotate(api.client, alice)
    assert_invalid_grant(await refresh(api.client, alice.refresh_token))
    assert await me_status(api.client, other["access_token"]) == 200
    assert (await refresh(api.client, other["refresh_token"])).status_code == 200


async def test_concurrent_use_of_one_refresh_token_succeeds_at_most_once(api: Api) -> None:
    alice = await api.register("alice")
    results = await asyncio.gather(*(refresh(api.client, alice.refresh_token) for _ in range(3)))
    statuses = [r.status_code for r in results]
    assert all(s in (200, 400) for s in statuses), [r.text for r in results]
    assert statuses.count(200) <= 1, [r.text for r in results]
    for r in results:
        if r.status_code == 400:
            assert r.json()["error"] == "invalid_grant"


async def test_unknown_refresh_token_is_invalid_grant(client: httpx.AsyncClient) -> None:
    assert_invalid_grant(await refresh(client, "not-a-token-we-issued"))


async def test_expired_refresh_token_is_invalid_grant(api: Api, app: FastAPI) -> None:
    alice = await api.register("alice")
    async with app.state.sessionmaker.begin() as session:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == hash_opaque_token(alice.refresh_token))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert_invalid_grant(await refresh(api.client, alice.refresh_token))


async def test_refresh_tokens_are_stored_hashed(api: Api, app: FastAPI) -> None:
    alice = await api.register("alice")
    async with app.state.sessionmaker() as session:
        hashes = (await session.execute(RefreshToken.__table__.select())).all()
    stored = [row.token_hash for row in hashes]
    assert hash_opaque_token(alice.refresh_token) in stored
    assert alice.refresh_token not in stored


async def test_revoking_a_refresh_token_ends_the_session(api: Api) -> None:
    alice = await api.register("alice")
    r = await api.client.post(REVOKE, data={"token": alice.refresh_token})
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    assert_invalid_grant(await refresh(api.client, alice.refresh_token))
    assert await me_status(api.client, alice.access_token) == 401


async def test_revoking_with_a_type_hint_works(api: Api) -> None:
    alice = await api.register("alice")
    r = await api.client.post(
        REVOKE, data={"token": alice.refresh_token, "token_type_hint": "refresh_token"}
    )
    assert r.status_code == 200
    assert await me_status(api.client, alice.access_token) == 401


async def test_revoking_an_access_token_ends_the_session(api: Api) -> None:
    alice = await api.register("alice")
    r = await api.client.post(REVOKE, data={"token": alice.access_token})
    assert r.status_code == 200, r.text
    assert await me_status(api.client, alice.access_token) == 401
    assert_invalid_grant(await refresh(api.client, alice.refresh_token))


async def test_revoking_one_session_leaves_the_others(api: Api) -> None:
    alice = await api.register("alice")
    other = await api.login("alice", alice.password)
    await api.client.post(REVOKE, data={"token": alice.refresh_token})
    assert await me_status(api.client, other["access_token"]) == 200


async def test_revoking_an_unknown_token_is_200(client: httpx.AsyncClient) -> None:
    r = await client.post(REVOKE, data={"token": "never-issued"})
    assert r.status_code == 200, r.text


async def test_revoking_twice_is_200(api: Api) -> None:
    alice = await api.register("alice")
    for _ in range(2):
        r = await api.client.post(REVOKE, data={"token": alice.refresh_token})
        assert r.status_code == 200, r.text


async def test_revoke_without_token_is_invalid_request(client: httpx.AsyncClient) -> None:
    for form in ({}, {"token": ""}, {"token_type_hint": "refresh_token"}):
        r = await client.post(REVOKE, data=form)
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "invalid_request"
        assert r.headers["Cache-Control"] == "no-store"
