"""An author's posts at GET /users/{id}/content: cursor pagination, newest first."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import Account, Api


async def _all_pages(
    client: httpx.AsyncClient, author: Account, viewer: Account | None, size: int
) -> list[list[str]]:
    headers = viewer.headers if viewer else {}
    pages: list[list[str]] = []
    params: dict[str, Any] = {"size": size}
    while True:
        r = await client.get(f"/api/v1/users/{author.id}/content", params=params, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        pages.append([i["id"] for i in body["items"]])
        if body["next_cursor"] is None:
            return pages
        params["cursor"] = body["next_cursor"]
        assert len(pages) < 20, "pagination does not terminate"


async def test_pages_cover_every_post_once_newest_first(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice = await api.register()
    posts = [await api.post(alice, f"post {n}") for n in range(7)]
    pages = await _all_pages(client, alice, None, 3)
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [pid for page in pages for pid in page] == [p["id"] for p in reversed(posts)]


async def test_exact_multiple_of_page_size_terminates(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    posts = [await api.post(alice, f"post {n}") for n in range(4)]
    pages = await _all_pages(client, alice, None, 2)
    assert [pid for page in pages for pid in page] == [p["id"] for p in reversed(posts)]
    # Two full pages, then at most one empty page that carries no cursor.
    assert [len(p) for p in pages] in ([2, 2], [2, 2, 0])


async def test_follower_pages_include_followers_only_posts(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice, fan, stranger = await api.register(), await api.register(), await api.register()
    await api.follow(fan, alice)
    posts = [
        await api.post(alice, f"post {n}", visibility=("public", "followers", "private")[n % 3])
        for n in range(9)
    ]
    newest_first = list(reversed(posts))
    fan_pages = await _all_pages(client, alice, fan, 2)
    assert [pid for page in fan_pages for pid in page] == [
        p["id"] for p in newest_first if p["visibility"] != "private"
    ]
    stranger_pages = await _all_pages(client, alice, stranger, 2)
    assert [pid for page in stranger_pages for pid in page] == [
        p["id"] for p in newest_first if p["visibility"] == "public"
    ]
    own_pages = await _all_pages(client, alice, alice, 2)
    assert [pid for page in own_pages for pid in page] == [p["id"] for p in newest_first]


async def test_posts_count_matches_the_viewers_list(api: Api, client: httpx.AsyncClient) -> None:
    alice, fan, stranger = await api.register(), await api.register(), await api.register()
    await api.follow(fan, alice)
    for n, visibility in enumerate(["public", "public", "followers", "private", "private"]):
        await api.post(alice, f"post {n}", visibility=visibility)
    for viewer, expected in ((alice, 5), (fan, 3), (stranger, 2), (None, 2)):
        headers = viewer.headers if viewer else {}
        r = await client.get(f"/api/v1/users/{alice.id}", headers=headers)
        assert r.json()["counts"]["posts_count"] == expected
        pages = await _all_pages(client, alice, viewer, 50)
        assert sum(len(p) for p in pages) == expected


async def test_list_items_carry_viewer_state(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    post = await api.post(alice)
    assert (
        await client.post(f"/api/v1/content/{post['id']}/like", headers=bob.headers)
    ).status_code == 200
    r = await client.get(f"/api/v1/users/{alice.id}/content", headers=bob.headers)
    [item] = r.json()["items"]
    assert item["viewer"] == {"liked": True, "shared": False}
    assert item["engagement"]["likes_count"] == 1


@pytest.mark.parametrize(("size", "status"), [(1, 200), (50, 200), (51, 422), (0, 422), ("x", 422)])
async def test_page_size_is_capped_at_50(
    api: Api, client: httpx.AsyncClient, size: Any, status: int
) -> None:
    alice = await api.register()
    r = await client.get(f"/api/v1/users/{alice.id}/content", params={"size": size})
    assert r.status_code == status


async def test_garbage_cursor_is_400(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    r = await client.get(f"/api/v1/users/{alice.id}/content", params={"cursor": "%%%"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_cursor"


async def test_unknown_author_is_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/users/01890a5d-ac96-774b-bcce-b302099a8057/content")
    assert r.status_code == 404
