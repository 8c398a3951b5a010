"""Threaded comments: create, validate, list with cursors, blocks, delete rights, visibility."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.helpers import Account, Api


def _url(post_id: str, what: str = "comment") -> str:
    return f"/api/v1/content/{post_id}/{what}"


async def _list(
    client: httpx.AsyncClient, viewer: Account | None, post_id: str, **params: Any
) -> httpx.Response:
    headers = viewer.headers if viewer else {}
    return await client.get(_url(post_id, "comments"), params=params, headers=headers)


async def _ids(
    client: httpx.AsyncClient, viewer: Account | None, post_id: str, **params: Any
) -> list[str]:
    r = await _list(client, viewer, post_id, **params)
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["items"]]


async def _comments_count(api: Api, viewer: Account, post_id: str) -> int:
    count: int = (await api.content(viewer, post_id))["engagement"]["comments_count"]
    return count


# --- create -------------------------------------------------------------------------------


async def test_comment_is_created_with_author_and_counter(
    api: Api, client: httpx.AsyncClient
) -> None:
    author, fan = await api.register(), await api.register()
    post = await api.post(author)
    r = await client.post(_url(post["id"]), json={"text": "좋아요 👍"}, headers=fan.headers)
    assert r.status_code == 201
    body = r.json()
    assert body["text"] == "좋아요 👍"
    assert body["content_id"] == post["id"]
    assert body["parent_comment_id"] is None
    assert body["author"]["id"] == fan.id
    assert body["author"]["username"] == fan.username
    assert body["replies_count"] == 0
    uuid.UUID(body["id"])
    assert await _comments_count(api, author, post["id"]) == 1


async def test_empty_comment_is_422(api: Api, client: httpx.AsyncClient) -> None:
    author = await api.register()
    post = await api.post(author)
    for text in ("", "   \n\t"):
        r = await client.post(_url(post["id"]), json={"text": text}, headers=author.headers)
        assert r.status_code == 422, text
        assert r.json()["error"]["code"] == "text_required"
    assert await _comments_count(api, author, post["id"]) == 0


async def test_comment_at_max_length_is_accepted(api: Api, client: httpx.AsyncClient) -> None:
    author = await api.register()
    post = await api.post(author)
    r = await client.post(_url(post["id"]), json={"text": "가" * 2000}, headers=author.headers)
    assert r.status_code == 201


async def test_comment_over_max_length_is_422(api: Api, client: httpx.AsyncClient) -> None:
    author = await api.register()
    post = await api.post(author)
    r = await client.post(_url(post["id"]), json={"text": "x" * 2001}, headers=author.headers)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "text_too_long"
    assert error["details"]["max_length"] == 2000


async def test_comment_with_unknown_field_is_422(api: Api, client: httpx.AsyncClient) -> None:
    author = await api.register()
    post = await api.post(author)
    r = await client.post(
        _url(post["id"]), json={"text": "hi", "rating": 5}, headers=author.headers
    )
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"


async def test_comment_with_wrong_types_is_422(api: Api, client: httpx.AsyncClient) -> None:
    author = await api.register()
    post = await api.post(author)
    for payload in ({"text": 5}, {}, {"text": "hi", "parent_comment_id": "nope"}, []):
        r = await client.post(_url(post["id"]), json=payload, headers=author.headers)
        assert r.status_code == 422, payload
        assert r.json()["error"]["code"] == "validation_error"


async def test_unstorable_comment_text_is_422_not_500(api: Api, client: httpx.AsyncClient) -> None:
    """JSON allows U+0000 and lone surrogates as escapes; PostgreSQL text cannot store them."""
    author = await api.register()
    post = await api.post(author)
    for raw in (b'{"text": "a\\u0000b"}', b'{"text": "x\\ud800"}'):
        r = await client.post(
            _url(post["id"]),
            content=raw,
            headers={**author.headers, "Content-Type": "application/json"},
        )
        assert r.status_code == 422, raw
        assert r.json()["error"]["code"] == "validation_error"
    assert await _comments_count(api, author, post["id"]) == 0


async def test_malformed_json_comment_is_400(api: Api, client: httpx.AsyncClient) -> None:
    author = await api.register()
    post = await api.post(author)
    r = await client.post(
        _url(post["id"]),
        content=b'{"text": ',
        headers={**author.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "malformed_json"


async def test_anonymous_comment_is_401(api: Api, client: httpx.AsyncClient) -> None:
    author = await api.register()
    post = await api.post(author)
    r = await client.post(_url(post["id"]), json={"text": "hi"})
    assert r.status_code == 401


async def test_reply_with_parent_from_another_post_is_404(
    api: Api, client: httpx.AsyncClient
) -> None:
    author = await api.register()
    post, other = await api.post(author), await api.post(author, "other")
    foreign = await api.comment(author, other["id"])
    r = await client.post(
        _url(post["id"]),
        json={"text": "reply", "parent_comment_id": foreign["id"]},
        headers=author.headers,
    )
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "parent_not_found"


async def test_reply_with_unknown_parent_is_404(api: Api, client: httpx.AsyncClient) -> None:
    author = await api.register()
    post = await api.post(author)
    r = await client.post(
        _url(post["id"]),
        json={"text": "reply", "parent_comment_id": str(uuid.uuid4())},
        headers=author.headers,
    )
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "parent_not_found"


async def test_reply_to_deleted_comment_is_404(api: Api, client: httpx.AsyncClient) -> None:
    author = await api.register()
    post = await api.post(author)
    parent = await api.comment(author, post["id"])
    assert (
        await client.delete(f"/api/v1/comments/{parent['id']}", headers=author.headers)
    ).status_code == 204
    r = await client.post(
        _url(post["id"]),
        json={"text": "reply", "parent_comment_id": parent["id"]},
        headers=author.headers,
    )
    assert r.status_code == 404


# --- list ---------------------------------------------------------------------------------


async def test_threads_list_top_level_oldest_first_with_reply_counts(
    api: Api, client: httpx.AsyncClient
) -> None:
    author, a, b = await api.register(), await api.register(), await api.register()
    post = await api.post(author)
    first = await api.comment(a, post["id"], "first")
    second = await api.comment(b, post["id"], "second")
    r1 = await api.comment(b, post["id"], "reply 1", parent=first["id"])
    r2 = await api.comment(author, post["id"], "reply 2", parent=first["id"])
    r = await _list(client, a, post["id"])
    assert r.status_code == 200
    items = r.json()["items"]
    assert [c["id"] for c in items] == [first["id"], second["id"]]
    assert [c["replies_count"] for c in items] == [2, 0]
    assert r.json()["next_cursor"] is None
    replies = await _ids(client, a, post["id"], parent_comment_id=first["id"])
    assert replies == [r1["id"], r2["id"]]
    # Replies count in the post's total.
    assert await _comments_count(api, author, post["id"]) == 4


async def test_reply_has_parent_id(api: Api) -> None:
    author = await api.register()
    post = await api.post(author)
    parent = await api.comment(author, post["id"])
    reply = await api.comment(author, post["id"], "re", parent=parent["id"])
    assert reply["parent_comment_id"] == parent["id"]


async def test_anonymous_can_list_comments_of_public_post(
    api: Api, client: httpx.AsyncClient
) -> None:
    author = await api.register()
    post = await api.post(author)
    c = await api.comment(author, post["id"])
    assert await _ids(client, None, post["id"]) == [c["id"]]


async def test_cursor_pages_cover_all_comments_once(api: Api, client: httpx.AsyncClient) -> None:
    author = await api.register()
    post = await api.post(author)
    made = [(await api.comment(author, post["id"], f"c{i}"))["id"] for i in range(7)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"size": 2}
        if cursor:
            params["cursor"] = cursor
        r = await _list(client, author, post["id"], **params)
        assert r.status_code == 200
        page = r.json()
        assert len(page["items"]) <= 2
        seen += [c["id"] for c in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 10
    assert seen == made
    assert pages == 4


async def test_comment_page_size_limits(api: Api, client: httpx.AsyncClient) -> None:
    author = await api.register()
    post = await api.post(author)
    for size in (0, 51, -1):
        r = await _list(client, author, post["id"], size=size)
        assert r.status_code == 422, size
        assert r.json()["error"]["code"] == "validation_error"
    assert (await _list(client, author, post["id"], size=50)).status_code == 200


async def test_bad_comment_cursor_is_400(api: Api, client: httpx.AsyncClient) -> None:
    author = await api.register()
    post = await api.post(author)
    r = await _list(client, author, post["id"], cursor="!!not-a-cursor!!")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_cursor"


async def test_comments_of_user_i_blocked_are_hidden_from_me(
    api: Api, client: httpx.AsyncClient
) -> None:
    author, viewer, troll = await api.register(), await api.register(), await api.register()
    post = await api.post(author)
    await api.comment(troll, post["id"], "troll")
    kept = await api.comment(author, post["id"], "kept")
    await api.block(viewer, troll)
    assert await _ids(client, viewer, post["id"]) == [kept["id"]]
    # Others still see both.
    assert len(await _ids(client, author, post["id"])) == 2


async def test_comments_of_user_who_blocked_me_are_hidden_from_me(
    api: Api, client: httpx.AsyncClient
) -> None:
    author, viewer, blocker = await api.register(), await api.register(), await api.register()
    post = await api.post(author)
    await api.comment(blocker, post["id"], "hidden")
    await api.block(blocker, viewer)
    assert await _ids(client, viewer, post["id"]) == []


async def test_blocked_replies_do_not_count_in_replies_count(
    api: Api, client: httpx.AsyncClient
) -> None:
    author, viewer, troll = await api.register(), await api.register(), await api.register()
    post = await api.post(author)
    top = await api.comment(author, post["id"])
    await api.comment(troll, post["id"], "re", parent=top["id"])
    await api.block(viewer, troll)
    r = await _list(client, viewer, post["id"])
    assert r.json()["items"][0]["replies_count"] == 0
    assert await _ids(client, viewer, post["id"], parent_comment_id=top["id"]) == []


async def test_comments_on_invisible_post_are_404(api: Api, client: httpx.AsyncClient) -> None:
    author, stranger = await api.register(), await api.register()
    post = await api.post(author, visibility="followers")
    await api.comment(author, post["id"])
    assert (await _list(client, stranger, post["id"])).status_code == 404
    assert (await _list(client, None, post["id"])).status_code == 404
    r = await client.post(_url(post["id"]), json={"text": "hi"}, headers=stranger.headers)
    assert r.status_code == 404
    assert await _comments_count(api, author, post["id"]) == 1


async def test_comments_on_followers_post_visible_to_follower(
    api: Api, client: httpx.AsyncClient
) -> None:
    author, follower = await api.register(), await api.register()
    await api.follow(follower, author)
    post = await api.post(author, visibility="followers")
    c = await api.comment(follower, post["id"])
    assert await _ids(client, follower, post["id"]) == [c["id"]]


async def test_comments_when_blocked_by_author_are_404(api: Api, client: httpx.AsyncClient) -> None:
    author, blocked = await api.register(), await api.register()
    post = await api.post(author)
    await api.block(author, blocked)
    assert (await _list(client, blocked, post["id"])).status_code == 404
    r = await client.post(_url(post["id"]), json={"text": "hi"}, headers=blocked.headers)
    assert r.status_code == 404


async def test_comments_of_deleted_post_are_404(api: Api, client: httpx.AsyncClient) -> None:
    author = await api.register()
    post = await api.post(author)
    await api.comment(author, post["id"])
    assert (
        await client.delete(f"/api/v1/content/{post['id']}", headers=author.headers)
    ).status_code == 204
    assert (await _list(client, author, post["id"])).status_code == 404


# --- delete -------------------------------------------------------------------------------


async def test_delete_own_comment_drops_count_and_listing(
    api: Api, client: httpx.AsyncClient
) -> None:
    author, fan = await api.register(), await api.register()
    post = await api.post(author)
    c = await api.comment(fan, post["id"])
    r = await client.delete(f"/api/v1/comments/{c['id']}", headers=fan.headers)
    assert r.status_code == 204
    assert await _comments_count(api, author, post["id"]) == 0
    assert await _ids(client, author, post["id"]) == []


async def test_post_author_can_delete_others_comment(api: Api, client: httpx.AsyncClient) -> None:
    author, fan = await api.register(), await api.register()
    post = await api.post(author)
    c = await api.comment(fan, post["id"])
    r = await client.delete(f"/api/v1/comments/{c['id']}", headers=author.headers)
    assert r.status_code == 204
    assert await _comments_count(api, author, post["id"]) == 0


async def test_third_user_cannot_delete_comment(api: Api, client: httpx.AsyncClient) -> None:
    author, fan, other = await api.register(), await api.register(), await api.register()
    post = await api.post(author)
    c = await api.comment(fan, post["id"])
    r = await client.delete(f"/api/v1/comments/{c['id']}", headers=other.headers)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
    assert await _comments_count(api, author, post["id"]) == 1


async def test_deleting_a_comment_twice_is_404(api: Api, client: httpx.AsyncClient) -> None:
    author = await api.register()
    post = await api.post(author)
    c = await api.comment(author, post["id"])
    url = f"/api/v1/comments/{c['id']}"
    assert (await client.delete(url, headers=author.headers)).status_code == 204
    r = await client.delete(url, headers=author.headers)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    assert await _comments_count(api, author, post["id"]) == 0


async def test_delete_unknown_comment_is_404(api: Api, client: httpx.AsyncClient) -> None:
    user = await api.register()
    r = await client.delete(f"/api/v1/comments/{uuid.uuid4()}", headers=user.headers)
    assert r.status_code == 404


async def test_anonymous_delete_comment_is_401(api: Api, client: httpx.AsyncClient) -> None:
    author = await api.register()
    post = await api.post(author)
    c = await api.comment(author, post["id"])
    assert (await client.delete(f"/api/v1/comments/{c['id']}")).status_code == 401
