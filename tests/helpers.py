"""A small client for tests: register users, log in, post, follow … through the HTTP API."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

_counter = itertools.count(1)


@dataclass
class Account:
    id: str
    username: str
    password: str
    access_token: str
    refresh_token: str
    headers: dict[str, str] = field(default_factory=dict)


class Api:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def register(
        self, username: str | None = None, *, password: str = "correct horse 1"
    ) -> Account:
        username = username or f"user_{next(_counter)}"
        r = await self.client.post(
            "/api/v1/users",
            json={"username": username, "email": f"{username}@example.org", "password": password},
        )
        assert r.status_code == 201, r.text
        user_id = r.json()["id"]
        tokens = await self.login(username, password)
        return Account(
            id=user_id,
            username=username.lower(),
            password=password,
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )

    async def login(self, username: str, password: str) -> dict[str, Any]:
        r = await self.client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": username, "password": password},
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def post(
        self,
        author: Account,
        text: str = "hello world",
        *,
        visibility: str = "public",
        **extra: Any,
    ) -> dict[str, Any]:
        r = await self.client.post(
            "/api/v1/content",
            json={"text": text, "visibility": visibility, **extra},
            headers=author.headers,
        )
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body

    async def follow(self, follower: Account, followee: Account) -> None:
        r = await self.client.post(f"/api/v1/users/{followee.id}/follow", headers=follower.headers)
        assert r.status_code == 200, r.text

    async def block(self, blocker: Account, blocked: Account) -> None:
        r = await self.client.post(f"/api/v1/users/{blocked.id}/block", headers=blocker.headers)
        assert r.status_code == 200, r.text

    async def mute(self, muter: Account, muted: Account) -> None:
        r = await self.client.post(f"/api/v1/users/{muted.id}/mute", headers=muter.headers)
        assert r.status_code == 200, r.text

    async def feed(self, viewer: Account, **params: Any) -> dict[str, Any]:
        r = await self.client.get("/api/v1/feed", params=params, headers=viewer.headers)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def content(self, viewer: Account | None, content_id: str) -> dict[str, Any]:
        headers = viewer.headers if viewer else {}
        r = await self.client.get(f"/api/v1/content/{content_id}", headers=headers)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def like(self, user: Account, content_id: str) -> dict[str, Any]:
        r = await self.client.post(f"/api/v1/content/{content_id}/like", headers=user.headers)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def comment(
        self, user: Account, content_id: str, text: str = "nice", parent: str | None = None
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {"text": text}
        if parent is not None:
            payload["parent_comment_id"] = parent
        r = await self.client.post(
            f"/api/v1/content/{content_id}/comment", json=payload, headers=user.headers
        )
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body


async def eventually(check: Callable[[], Any], within: float = 15.0) -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)
