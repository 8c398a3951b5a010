"""Counters equal the truth under concurrent engagement (PostgreSQL only).

The ASGI transport runs gathered requests concurrently on one event loop and each
request takes its own pooled connection, so these are real concurrent transactions.
The truth is measured through the API: each user's ``viewer`` state on the post, and
the listed comments.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
import pytest

from tests.helpers import Account, Api

USERS = 32


@pytest.fixture
def client(services_client: httpx.AsyncClient) -> httpx.AsyncClient:
    """PostgreSQL only: SQLite serialises writers, so there is no race to test there."""
    return services_client


async def _crowd(api: Api, n: int = USERS) -> list[Account]:
    return list(await asyncio.gather(*(api.register() for _ in range(n))))


async def _truth(api: Api, users: list[Account], post_id: str, state: str) -> int:
    bodies = await asyncio.gather(*(api.content(u, post_id) for u in users))
    return sum(1 for b in bodies if b["viewer"][state])


async def _status(
    client: httpx.AsyncClient, method: str, url: str, user: Account, **kw: Any
) -> int:
    r = await client.request(method, url, headers=user.headers, **kw)
    assert r.status_code < 300, r.text
    return r.status_code


async def test_concurrent_likes_and_unlikes_keep_count_true(
    api: Api, client: httpx.AsyncClient
) -> None:
    author = await api.register()
    users = await _crowd(api)
    post = await api.post(author)
    url = f"/api/v1/content/{post['id']}/like"

    # Everyone likes at once, some twice.
    await asyncio.gather(
        *(_status(client, "POST", url, u) for u in users),
        *(_status(client, "POST", url, u) for u in users[:8]),
    )
    body = await api.content(author, post["id"])
    assert (
        body["engagement"]["likes_count"] == USERS == await _truth(api, users, post["id"], "liked")
    )

    # A random half unlikes while the others like again; some do both at the same time.
    rng = random.Random(20240501)
    leaving = rng.sample(users, USERS // 2)
    staying = [u for u in users if u not in leaving]
    torn = rng.sample(users, 8)
    ops = [
        *(_status(client, "DELETE", url, u) for u in leaving),
        *(_status(client, "POST", url, u) for u in staying),
        *(_status(client, "POST", url, u) for u in torn),
        *(_status(client, "DELETE", url, u) for u in torn),
    ]
    rng.shuffle(ops)
    await asyncio.gather(*ops)

    truth = await _truth(api, users, post["id"], "liked")
    assert (await api.content(author, post["id"]))["engagement"]["likes_count"] == truth
    # Users who only unliked, and nothing else, are certainly out.
    untouched_leavers = [u for u in leaving if u not in torn]
    states = await asyncio.gather(*(api.content(u, post["id"]) for u in untouched_leavers))
    assert not any(s["viewer"]["liked"] for s in states)


async def test_concurrent_like_and_unlike_by_one_user_stays_consistent(
    api: Api, client: httpx.AsyncClient
) -> None:
    author, fan = await api.register(), await api.register()
    post = await api.post(author)
    url = f"/api/v1/content/{post['id']}/like"
    for _ in range(10):
        await asyncio.gather(
            _status(client, "POST", url, fan),
            _status(client, "DELETE", url, fan),
            _status(client, "POST", url, fan),
        )
        body = await api.content(fan, post["id"])
        assert body["engagement"]["likes_count"] == int(body["viewer"]["liked"])


async def test_concurrent_shares_and_unshares_keep_count_true(
    api: Api, client: httpx.AsyncClient
) -> None:
    author = await api.register()
    users = await _crowd(api)
    post = await api.post(author)
    url = f"/api/v1/content/{post['id']}/share"

    codes = await asyncio.gather(
        *(_status(client, "POST", url, u) for u in users),
        *(_status(client, "POST", url, u) for u in users[:8]),
    )
    # Exactly one 201 per user; the repeats answer 200.
    assert codes.count(201) == USERS
    assert (await api.content(author, post["id"]))["engagement"]["shares_count"] == USERS

    rng = random.Random(7)
    leaving = rng.sample(users, USERS // 2)
    torn = rng.sample(users, 8)
    ops = [
        *(_status(client, "DELETE", url, u) for u in leaving),
        *(_status(client, "POST", url, u) for u in torn),
        *(_status(client, "DELETE", url, u) for u in torn),
    ]
    rng.shuffle(ops)
    await asyncio.gather(*ops)

    truth = await _truth(api, users, post["id"], "shared")
    assert (await api.content(author, post["id"]))["engagement"]["shares_count"] == truth


async def _all_comments(client: httpx.AsyncClient, viewer: Account, post_id: str) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"size": 50}
        if cursor:
            params["cursor"] = cursor
        r = await client.get(
            f"/api/v1/content/{post_id}/comments", params=params, headers=viewer.headers
        )
        assert r.status_code == 200, r.text
        ids += [c["id"] for c in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return ids


async def test_concurrent_comments_and_deletes_keep_count_true(
    api: Api, client: httpx.AsyncClient
) -> None:
    author = await api.register()
    users = await _crowd(api)
    post = await api.post(author)
    first = await asyncio.gather(
        *(api.comment(u, post["id"], f"hi {i}") for i, u in enumerate(users))
    )
    assert (await api.content(author, post["id"]))["engagement"]["comments_count"] == USERS

    rng = random.Random(11)
    doomed = rng.sample(list(first), USERS // 2)
    ops: list[Any] = []
    for c in doomed:
        owner = next(u for u in users if u.id == c["author"]["id"])
        url = f"/api/v1/comments/{c['id']}"
        # The commenter and the post author race to delete the same comment.
        ops += [
            client.delete(url, headers=owner.headers),
            client.delete(url, headers=author.headers),
        ]
    ops += [api.comment(u, post["id"], "again") for u in users]
    rng.shuffle(ops)
    results = await asyncio.gather(*ops)
    deletes = [r for r in results if isinstance(r, httpx.Response)]
    # Each doomed comment is deleted exactly once; the losing racer gets 404.
    assert sorted(r.status_code for r in deletes) == [204] * len(doomed) + [404] * len(doomed)

    listed = await _all_comments(client, author, post["id"])
    assert len(listed) == len(set(listed)) == 2 * USERS - len(doomed)
    assert (await api.content(author, post["id"]))["engagement"]["comments_count"] == len(listed)
