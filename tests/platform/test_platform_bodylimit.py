"""Oversize request bodies get 413 with the error shape, declared or streamed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI

CHUNK = 64 * 1024


def limit(app: FastAPI) -> int:
    max_bytes: int = app.state.settings.max_body_bytes
    return max_bytes


async def chunks(total: int, piece: bytes = b" ") -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        size = min(CHUNK, total - sent)
        yield piece * size
        sent += size


def assert_too_large(r: httpx.Response, max_bytes: int) -> None:
    assert r.status_code == 413, r.text[:200]
    error = r.json()["error"]
    assert error["code"] == "payload_too_large"
    assert str(max_bytes) in error["message"]


async def test_default_limit_is_one_mebibyte(app: FastAPI) -> None:
    assert limit(app) == 1024 * 1024


async def test_oversize_body_with_content_length_is_413(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    body = b'{"username": "' + b"a" * limit(app) + b'"}'
    r = await client.post(
        "/api/v1/users", content=body, headers={"Content-Type": "application/json"}
    )
    assert_too_large(r, limit(app))
    assert r.json()["error"]["details"] == {"max_bytes": limit(app)}


async def test_oversize_chunked_body_is_413(client: httpx.AsyncClient, app: FastAPI) -> None:
    r = await client.post(
        "/api/v1/users",
        content=chunks(limit(app) + 1),
        headers={"Content-Type": "application/json"},
    )
    assert "content-length" not in {k.lower() for k in r.request.headers}
    assert_too_large(r, limit(app))


async def test_oversize_chunked_form_to_token_endpoint_is_413(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    r = await client.post(
        "/api/v1/auth/token",
        content=chunks(limit(app) + CHUNK, b"a"),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_too_large(r, limit(app))


async def test_body_exactly_at_the_limit_is_processed(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    payload = b'{"username": "alice", "email": "a@example.org", "password": "correct horse 1"}'
    body = payload + b" " * (limit(app) - len(payload))
    assert len(body) == limit(app)
    r = await client.post(
        "/api/v1/users", content=body, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 201, r.text


async def test_chunked_body_under_the_limit_is_processed(client: httpx.AsyncClient) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b'{"username": "alice", '
        yield b'"email": "a@example.org", '
        yield b'"password": "correct horse 1"}'

    r = await client.post(
        "/api/v1/users", content=body(), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 201, r.text


async def test_oversize_request_leaves_no_trace(client: httpx.AsyncClient, app: FastAPI) -> None:
    payload = b'{"username": "alice", "email": "a@example.org", "password": "correct horse 1"}'
    body = payload + b" " * limit(app)
    r = await client.post(
        "/api/v1/users", content=body, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert (await client.get("/api/v1/users/by-username/alice")).status_code == 404
