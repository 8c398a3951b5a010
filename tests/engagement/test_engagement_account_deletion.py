"""Deleting an account withdraws its likes, shares and comments."""

from __future__ import annotations

import asyncio

import httpx

from tests.helpers import Account, Api


async def _delete_account(client: httpx.AsyncClient, user: Account) -> None:
    r = await client.delete("/api/v1/users/me", headers=user.headers)
    assert r.status_code == 204, r.text


async def _comment_ids(
    client: httpx.AsyncClient, viewer: Account, post_id: str, **params: str
) -> list[str]:
    r = await client.get(
        f"/api/v1/content/{post_id}/comments", params=params, headers=viewer.headers
    )
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["items"]]


async def test_deleted_accounts_likes_stop_counting(api: Api, client: httpx.AsyncClient) -> None:
    author, leaver, stayer = await api.register(), await api.register(), await api.register()
    posts = [await api.post(author, f"p{i}") for i in range(2)]
    for post in posts:
        await api.like(leaver, post["id"])
        await api.like(stayer, post["id"])
    await _delete_account(client, leaver)
    for post in posts:
        assert (await api.content(author, post["id"]))["engagement"]["likes_count"] == 1


async def test_deleted_accounts_shares_stop_counting(api: Api, client: httpx.AsyncClient) -> None:
    author, leaver = await api.register(), await api.register()
    post = await api.post(author)
    r = await client.post(f"/api/v1/content/{post['id']}/share", headers=leaver.headers)
    assert r.status_code == 201
    await _delete_account(client, leaver)
    assert (await api.content(author, post["id"]))["engagement"]["shares_count"] == 0


async def test_deleted_accounts_comments_vanish_and_stop_counting(
    api: Api, client: httpx.AsyncClient
) -> None:
    author, leaver = await api.register(), await api.register()
    post = await api.post(author)
    kept = await api.comment(author, post["id"], "kept")
    await api.comment(leaver, post["id"], "one")
    await api.comment(leaver, post["id"], "two")
    await api.comment(leaver, post["id"], "reply", parent=kept["id"])
    await _delete_account(client, leaver)
    assert (await api.content(author, post["id"]))["engagement"]["comments_count"] == 1
    assert await _comment_ids(client, author, post["id"]) == [kept["id"]]
    assert await _comment_ids(client, author, post["id"], parent_comment_id=kept["id"]) == []
    r = await client.get(f"/api/v1/content/{post['id']}/comments", headers=author.headers)
    assert r.json()["items"][0]["replies_count"] == 0


async def test_already_deleted_comments_are_not_subtracted_twice(
    api: Api, client: httpx.AsyncClient
) -> None:
    author, leaver = await api.register(), await api.register()
    post = await api.post(author)
    await api.comment(author, post["id"])
    gone = await api.comment(leaver, post["id"])
    await api.comment(leaver, post["id"])
    r = await client.delete(f"/api/v1/comments/{gone['id']}", headers=leaver.headers)
    assert r.status_code == 204
    await _delete_account(client, leaver)
    assert (await api.content(author, post["id"]))["engagement"]["comments_count"] == 1


async def test_unliked_posts_are_not_subtracted_on_deletion(
    api: Api, client: httpx.AsyncClient
) -> None:
    author, leaver, stayer = await api.register(), await api.register(), await api.register()
    post = await api.post(author)
    await api.like(stayer, post["id"])
    await api.like(leaver, post["id"])
    assert (
        await client.delete(f"/api/v1/content/{post['id']}/like", headers=leaver.headers)
    ).status_code == 204
    await _delete_account(client, leaver)
    assert (await api.content(author, post["id"]))["engagement"]["likes_count"] == 1


async def test_comments_on_deleted_accounts_posts_are_gone(
    api: Api, client: httpx.AsyncClient
) -> None:
    author, fan = await api.register(), await api.register()
    post = await api.post(author)
    await api.comment(fan, post["id"])
    await _delete_account(client, author)
    r = await client.get(f"/api/v1/content/{post['id']}/comments", headers=fan.headers)
    assert r.status_code == 404
    r = await client.post(f"/api/v1/content/{post['id']}/like", headers=fan.headers)
    assert r.status_code == 404


async def test_likes_racing_the_account_deletion_are_withdrawn_too(
    api: Api, client: httpx.AsyncClient
) -> None:
    """A like in flight while its author deletes the account must not outlive the account."""
    author = await api.register()
    posts = [await api.post(author, f"p{i}") for i in range(30)]
    for _ in range(3):
        leaver = await api.register()

        async def like(post_id: str, who: Account = leaver) -> int:
            r = await client.post(f"/api/v1/content/{post_id}/like", headers=who.headers)
            return r.status_code

        async def delete(who: Account = leaver) -> int:
            r = await client.delete("/api/v1/users/me", headers=who.headers)
            return r.status_code

        codes = await asyncio.gather(
            *(like(p["id"]) for p in posts[:10]), delete(), *(like(p["id"]) for p in posts[10:])
        )
        assert codes[10] == 204
        assert set(codes) <= {200, 204, 401}
    counts = [(await api.content(author, p["id"]))["engagement"]["likes_count"] for p in posts]
    assert counts == [0] * len(posts)
