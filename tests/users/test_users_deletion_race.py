"""Writes racing an account deletion never outlive the account, and never fail with a 5xx.

Every gather uses ``return_exceptions=True`` so no request is left running into the next
test when one of them fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import httpx

from tests.helpers import Account, Api


async def race(
    before: list[Awaitable[int]], delete: Awaitable[int], after: list[Awaitable[int]]
) -> list[int]:
    results = await asyncio.gather(*before, delete, *after, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == [], errors
    codes = [r for r in results if isinstance(r, int)]
    assert codes[len(before)] == 204, codes
    return codes


async def delete_me(client: httpx.AsyncClient, who: Account) -> int:
    r = await client.delete("/api/v1/users/me", headers=who.headers)
    return r.status_code


async def test_posts_racing_the_account_deletion_do_not_survive(
    api: Api, client: httpx.AsyncClient
) -> None:
    reader = await api.register("reader")
    for round_ in range(3):
        leaver = await api.register(f"leaver_{round_}")
        await api.follow(reader, leaver)

        async def post(i: int, who: Account = leaver) -> int:
            r = await client.post("/api/v1/content", json={"text": f"p{i}"}, headers=who.headers)
            return r.status_code

        codes = await race(
            [post(i) for i in range(8)],
            delete_me(client, leaver),
            [post(i) for i in range(8, 16)],
        )
        # 404: on SQLite the post can be written after the deletion committed; the content
        # presenter then finds no author and the request rolls back.
        assert set(codes) <= {201, 204, 401, 404}, codes
    feed = await api.feed(reader)
    assert feed["items"] == []
    assert feed["total"] == 0


async def test_follows_racing_the_account_deletion_do_not_survive(
    api: Api, client: httpx.AsyncClient
) -> None:
    targets = [await api.register(f"target_{i}") for i in range(12)]
    for round_ in range(3):
        leaver = await api.register(f"leaver_{round_}")

        async def follow(target: Account, who: Account = leaver) -> int:
            r = await client.post(f"/api/v1/users/{target.id}/follow", headers=who.headers)
            return r.status_code

        codes = await race(
            [follow(t) for t in targets[:6]],
            delete_me(client, leaver),
            [follow(t) for t in targets[6:]],
        )
        assert set(codes) <= {200, 204, 401}, codes
    for target in targets:
        profile = (await client.get(f"/api/v1/users/{target.id}")).json()
        assert profile["counts"]["followers_count"] == 0, target.username


async def test_concurrent_profile_updates_of_one_account_all_succeed(api: Api) -> None:
    alice = await api.register("alice")
    results = await asyncio.gather(
        *(
            api.client.patch("/api/v1/users/me", json={"bio": f"v{i}"}, headers=alice.headers)
            for i in range(6)
        ),
        return_exceptions=True,
    )
    assert [getattr(r, "status_code", r) for r in results] == [200] * 6


async def test_concurrent_deletions_of_one_account_do_not_fail(api: Api) -> None:
    alice = await api.register("alice")
    results = await asyncio.gather(
        *(api.client.delete("/api/v1/users/me", headers=alice.headers) for _ in range(3)),
        return_exceptions=True,
    )
    statuses = sorted(getattr(r, "status_code", 0) for r in results)
    assert statuses[0] == 204, results
    assert set(statuses) <= {204, 401}, results


async def test_writes_of_other_accounts_are_not_blocked_by_a_deletion(api: Api) -> None:
    leaver = await api.register("leaver")
    stayer = await api.register("stayer")
    await api.follow(stayer, leaver)
    results = await asyncio.gather(
        api.client.delete("/api/v1/users/me", headers=leaver.headers),
        *(
            api.client.post("/api/v1/content", json={"text": f"s{i}"}, headers=stayer.headers)
            for i in range(5)
        ),
        return_exceptions=True,
    )
    assert [getattr(r, "status_code", r) for r in results] == [204] + [201] * 5
