"""Reading notifications through the API in tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import Account


async def notifications(
    client: httpx.AsyncClient, who: Account, **params: Any
) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/notifications", params=params, headers=who.headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def unread(client: httpx.AsyncClient, who: Account) -> int:
    r = await client.get("/api/v1/notifications/unread-count", headers=who.headers)
    assert r.status_code == 200, r.text
    count: int = r.json()["unread"]
    return count


def kinds(items: list[dict[str, Any]]) -> list[str]:
    return [i["type"] for i in items]


def actor_names(item: dict[str, Any]) -> list[str]:
    return [a["username"] for a in item["actors"]]
