"""Editing and deleting posts: only the author, and a deleted post is gone for everyone."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.helpers import Account, Api


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


async def _patch(
    client: httpx.AsyncClient, post: dict[str, Any], who: Account | None, body: Any
) -> httpx.Response:
    headers = {**(who.headers if who else {}), "Content-Type": "application/json"}
    # json.dumps escapes non-ASCII, so bodies with lone surrogates can be sent as JSON does.
    content = json.dumps(body).encode()
    return await client.patch(f"/api/v1/content/{post['id']}", content=content, headers=headers)


async def _delete(
    client: httpx.AsyncClient, post: dict[str, Any], who: Account | None
) -> httpx.Response:
    headers = who.headers if who else {}
    return await client.delete(f"/api/v1/content/{post['id']}", headers=headers)


async def test_author_edits_text_and_tags_are_reparsed(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob, carol = await api.register(), await api.register(), await api.register()
    post = await api.post(alice, f"#old tag for @{bob.username}")
    r = await _patch(client, post, alice, {"text": f"#New #맛집 for @{carol.username}"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["content"]["text"] == f"#New #맛집 for @{carol.username}"
    assert body["content"]["hashtags"] == ["new", "맛집"]
    assert body["content"]["mentions"] == [carol.id]
    assert body["created_at"] == post["created_at"]
    assert _when(body["updated_at"]) > _when(post["updated_at"])
    # The edit is durable, not just in the response.
    r = await client.get(f"/api/v1/content/{post['id']}", headers=alice.headers)
    assert r.json()["content"]["hashtags"] == ["new", "맛집"]
    assert r.json()["updated_at"] == body["updated_at"]


async def test_author_changes_visibility(api: Api, client: httpx.AsyncClient) -> None:
    alice, stranger = await api.register(), await api.register()
    post = await api.post(alice, "soon private")
    r = await _patch(client, post, alice, {"visibility": "private"})
    assert r.status_code == 200
    assert r.json()["visibility"] == "private"
    assert r.json()["content"]["text"] == "soon private"
    assert (
        await client.get(f"/api/v1/content/{post['id']}", headers=stranger.headers)
    ).status_code == 404
    r = await _patch(client, post, alice, {"visibility": "public"})
    assert (
        await client.get(f"/api/v1/content/{post['id']}", headers=stranger.headers)
    ).status_code == 200


async def test_empty_patch_changes_nothing(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    post = await api.post(alice, "unchanged")
    r = await _patch(client, post, alice, {})
    assert r.status_code == 200
    assert r.json()["updated_at"] == post["updated_at"]


async def test_non_author_who_can_see_the_post_gets_403(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice, bob = await api.register(), await api.register()
    post = await api.post(alice, "mine")
    r = await _patch(client, post, bob, {"text": "yours now"})
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
    r = await client.get(f"/api/v1/content/{post['id']}")
    assert r.json()["content"]["text"] == "mine"


async def test_non_author_who_cannot_see_the_post_gets_404(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice, bob = await api.register(), await api.register()
    post = await api.post(alice, "hidden", visibility="private")
    r = await _patch(client, post, bob, {"text": "found it"})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


async def test_anonymous_edit_is_401(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    post = await api.post(alice)
    assert (await _patch(client, post, None, {"text": "x"})).status_code == 401


async def test_edit_with_null_text_is_422(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    post = await api.post(alice, "keep me")
    r = await _patch(client, post, alice, {"text": None})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "text_required"
    r = await client.get(f"/api/v1/content/{post['id']}")
    assert r.json()["content"]["text"] == "keep me"


async def test_edit_with_null_visibility_is_422(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    post = await api.post(alice, "keep me")
    r = await _patch(client, post, alice, {"visibility": None})
    assert r.status_code == 422


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"text": ""}, "text_required"),
        ({"text": "x" * 5001}, "text_too_long"),
        ({"visibility": "friends"}, "validation_error"),
        ({"content_type": "link"}, "validation_error"),
        ({"hashtags": ["spam"]}, "validation_error"),
        ({"text": 12}, "validation_error"),
    ],
    ids=["empty", "too_long", "bad_visibility", "content_type", "hashtags", "wrong_type"],
)
async def test_invalid_edit_is_422_and_changes_nothing(
    api: Api, client: httpx.AsyncClient, body: dict[str, Any], code: str
) -> None:
    alice = await api.register()
    post = await api.post(alice, "original #tag")
    r = await _patch(client, post, alice, body)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == code
    r = await client.get(f"/api/v1/content/{post['id']}")
    assert r.json() | {"viewer": None} == post | {"viewer": None}


async def test_link_post_cannot_lose_its_url(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    post = await api.post(alice, "", content_type="link", link_url="https://example.org/")
    r = await _patch(client, post, alice, {"link_url": None})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "link_url_required"


async def test_edit_of_unknown_post_is_404(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    r = await client.patch(
        "/api/v1/content/01890a5d-ac96-774b-bcce-b302099a8057",
        json={"text": "x"},
        headers=alice.headers,
    )
    assert r.status_code == 404


async def test_author_delete_is_204_then_404_for_everyone(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice, bob = await api.register(), await api.register()
    await api.follow(bob, alice)
    post = await api.post(alice, "short-lived")
    r = await _delete(client, post, alice)
    assert r.status_code == 204
    assert r.content == b""
    for viewer in (alice, bob):
        r = await client.get(f"/api/v1/content/{post['id']}", headers=viewer.headers)
        assert r.status_code == 404
    assert (await client.get(f"/api/v1/content/{post['id']}")).status_code == 404


async def test_deleted_post_leaves_lists_feed_and_counts(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice, bob = await api.register(), await api.register()
    await api.follow(bob, alice)
    post = await api.post(alice, "short-lived")
    assert (await _delete(client, post, alice)).status_code == 204
    r = await client.get(f"/api/v1/users/{alice.id}/content", headers=alice.headers)
    assert r.json()["items"] == []
    assert (await api.feed(bob))["items"] == []
    r = await client.get(f"/api/v1/users/{alice.id}", headers=alice.headers)
    assert r.json()["counts"]["posts_count"] == 0


async def test_deleted_post_cannot_be_edited(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    post = await api.post(alice)
    assert (await _delete(client, post, alice)).status_code == 204
    assert (await _patch(client, post, alice, {"text": "revive"})).status_code == 404


async def test_delete_twice_is_404(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    post = await api.post(alice)
    assert (await _delete(client, post, alice)).status_code == 204
    r = await _delete(client, post, alice)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


async def test_non_author_delete_is_403(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    post = await api.post(alice)
    r = await _delete(client, post, bob)
    assert r.status_code == 403
    assert (await client.get(f"/api/v1/content/{post['id']}")).status_code == 200


async def test_non_author_delete_of_a_hidden_post_is_404(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice, bob = await api.register(), await api.register()
    post = await api.post(alice, visibility="followers")
    assert (await _delete(client, post, bob)).status_code == 404


async def test_anonymous_delete_is_401(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    post = await api.post(alice)
    assert (await _delete(client, post, None)).status_code == 401


async def test_deleting_an_account_removes_its_posts(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    post = await api.post(alice)
    assert (await client.delete("/api/v1/users/me", headers=alice.headers)).status_code == 204
    r = await client.get(f"/api/v1/content/{post['id']}", headers=bob.headers)
    assert r.status_code == 404


@pytest.mark.parametrize(
    "body",
    [{"text": "nul \u0000"}, {"text": "\ud800"}, {"link_url": "https://example.org/" + "a" * 2100}],
    ids=["nul", "surrogate", "long_url"],
)
async def test_unstorable_edit_is_422_not_500(
    api: Api, client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    alice = await api.register()
    post = await api.post(alice, "fine")
    r = await _patch(client, post, alice, body)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"
