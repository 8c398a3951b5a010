"""Registration: username and e-mail rules, uniqueness, password storage, bad input."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from snsfeed.users.models import User
from tests.helpers import Api

REGISTER = "/api/v1/users"


def body(username: str = "alice", **extra: Any) -> dict[str, Any]:
    return {
        "username": username,
        "email": f"{username.lower()}@example.org",
        "password": "correct horse 1",
        **extra,
    }


def assert_error(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]


async def test_register_returns_201_with_my_profile(client: httpx.AsyncClient) -> None:
    r = await client.post(REGISTER, json=body("alice", full_name="Alice A.", bio="hi"))
    assert r.status_code == 201, r.text
    me = r.json()
    assert me["username"] == "alice"
    assert me["email"] == "alice@example.org"
    assert me["full_name"] == "Alice A."
    assert me["bio"] == "hi"
    assert me["role"] == "user"
    assert me["counts"] == {"followers_count": 0, "following_count": 0, "posts_count": 0}
    assert "password" not in r.text and "password_hash" not in r.text


async def test_register_assigns_a_uuid7_id(client: httpx.AsyncClient) -> None:
    r = await client.post(REGISTER, json=body("alice"))
    assert r.status_code == 201, r.text
    assert r.json()["id"][14] == "7"  # the version nibble of a UUIDv7


@pytest.mark.parametrize("username", ["abc", "a" * 30, "user_01", "___", "007"])
async def test_register_accepts_valid_usernames(client: httpx.AsyncClient, username: str) -> None:
    r = await client.post(REGISTER, json=body(username))
    assert r.status_code == 201, r.text
    assert r.json()["username"] == username


@pytest.mark.parametrize(
    "username",
    ["ab", "a" * 31, "bad-name", "bad.name", "with space", "héllo", "사용자이름", "", "al\nice"],
)
async def test_register_rejects_invalid_usernames(client: httpx.AsyncClient, username: str) -> None:
    r = await client.post(
        REGISTER,
        json={"username": username, "email": "x@example.org", "password": "correct horse 1"},
    )
    assert_error(r, 422, "validation_error")
    assert any(e["loc"][-1] == "username" for e in r.json()["error"]["details"])


async def test_register_folds_username_to_lower_case(client: httpx.AsyncClient) -> None:
    r = await client.post(REGISTER, json=body("Alice_X"))
    assert r.status_code == 201, r.text
    assert r.json()["username"] == "alice_x"
    profile = await client.get("/api/v1/users/by-username/ALICE_X")
    assert profile.status_code == 200
    assert profile.json()["id"] == r.json()["id"]


async def test_register_username_taken_case_insensitively(client: httpx.AsyncClient) -> None:
    assert (await client.post(REGISTER, json=body("alice"))).status_code == 201
    r = await client.post(
        REGISTER,
        json={"username": "Alice", "email": "other@example.org", "password": "correct horse 1"},
    )
    assert_error(r, 409, "username_taken")


async def test_register_email_taken_case_insensitively(client: httpx.AsyncClient) -> None:
    assert (await client.post(REGISTER, json=body("alice"))).status_code == 201
    r = await client.post(
        REGISTER,
        json={"username": "bob", "email": "ALICE@Example.ORG", "password": "correct horse 1"},
    )
    assert_error(r, 409, "email_taken")


async def test_register_stores_email_lower_case(client: httpx.AsyncClient) -> None:
    r = await client.post(
        REGISTER,
        json={"username": "bob", "email": "Bob.Smith@Example.ORG", "password": "correct horse 1"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["email"] == "bob.smith@example.org"


async def test_register_username_of_deleted_account_stays_reserved(api: Api) -> None:
    alice = await api.register("alice")
    assert (await api.client.delete("/api/v1/users/me", headers=alice.headers)).status_code == 204
    r = await api.client.post(
        REGISTER,
        json={"username": "alice", "email": "new@example.org", "password": "correct horse 1"},
    )
    assert_error(r, 409, "username_taken")


async def test_concurrent_registrations_of_one_name_give_one_account(
    client: httpx.AsyncClient,
) -> None:
    bodies = [
        {"username": "racer", "email": f"racer{i}@example.org", "password": "correct horse 1"}
        for i in range(2)
    ]
    results = await asyncio.gather(*(client.post(REGISTER, json=b) for b in bodies))
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201, 409], [r.text for r in results]


@pytest.mark.parametrize("password", ["", "Zq9#xY", "s3cr3t!"])
async def test_register_rejects_passwords_under_8_chars_without_echoing_them(
    client: httpx.AsyncClient, password: str
) -> None:
    r = await client.post(REGISTER, json=body("alice", password=password))
    assert_error(r, 422, "validation_error")
    assert any(e["loc"][-1] == "password" for e in r.json()["error"]["details"])
    if password:
        assert password not in r.text


async def test_register_accepts_an_8_char_password(client: httpx.AsyncClient) -> None:
    r = await client.post(REGISTER, json=body("alice", password="12345678"))
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.org", "a b@example.org", ""])
async def test_register_rejects_bad_email(client: httpx.AsyncClient, email: str) -> None:
    r = await client.post(REGISTER, json=body("alice", email=email))
    assert_error(r, 422, "validation_error")


async def test_register_rejects_unknown_fields(client: httpx.AsyncClient) -> None:
    r = await client.post(REGISTER, json=body("alice", role="admin"))
    assert_error(r, 422, "validation_error")
    assert any(e["loc"][-1] == "role" for e in r.json()["error"]["details"])


async def test_register_rejects_malformed_json(client: httpx.AsyncClient) -> None:
    r = await client.post(
        REGISTER, content=b'{"username": "alice",', headers={"Content-Type": "application/json"}
    )
    assert_error(r, 400, "malformed_json")


@pytest.mark.parametrize(
    "override",
    [
        {"username": 12345},
        {"username": ["alice"]},
        {"email": 7},
        {"password": 12345678},
        {"password": None},
        {"full_name": {"first": "A"}},
    ],
)
async def test_register_rejects_wrong_types(
    client: httpx.AsyncClient, override: dict[str, Any]
) -> None:
    r = await client.post(REGISTER, json={**body("alice"), **override})
    assert_error(r, 422, "validation_error")


@pytest.mark.parametrize("payload", [[], "alice", 42, None])
async def test_register_rejects_non_object_body(client: httpx.AsyncClient, payload: Any) -> None:
    r = await client.post(REGISTER, json=payload)
    assert r.status_code in (400, 422), r.text
    assert "error" in r.json()


async def test_register_rejects_missing_fields(client: httpx.AsyncClient) -> None:
    r = await client.post(REGISTER, json={"username": "alice"})
    assert_error(r, 422, "validation_error")
    missing = {e["loc"][-1] for e in r.json()["error"]["details"]}
    assert missing == {"email", "password"}


async def test_register_stores_password_as_argon2id(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    r = await client.post(REGISTER, json=body("alice"))
    assert r.status_code == 201, r.text
    async with app.state.sessionmaker() as session:
        stored = (
            await session.execute(select(User.password_hash).where(User.username == "alice"))
        ).scalar_one()
    assert stored.startswith("$argon2id$")
    assert "correct horse 1" not in stored
