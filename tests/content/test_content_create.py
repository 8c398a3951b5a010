"""Creating posts: the document shape, validation, hashtags and mentions."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.helpers import Account, Api


async def _create(client: httpx.AsyncClient, author: Account, body: Any) -> httpx.Response:
    # json.dumps escapes non-ASCII, so bodies with lone surrogates can be sent as JSON does.
    return await client.post(
        "/api/v1/content",
        content=json.dumps(body).encode(),
        headers={**author.headers, "Content-Type": "application/json"},
    )


def _assert_error(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code
    assert error["message"]


async def test_create_returns_201_with_the_spec_document_shape(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice = await api.register()
    r = await _create(client, alice, {"text": "hello #world", "visibility": "public"})
    assert r.status_code == 201
    body = r.json()
    assert body["content_type"] == "text"
    assert body["visibility"] == "public"
    assert body["content"] == {
        "text": "hello #world",
        "media_urls": [],
        "hashtags": ["world"],
        "mentions": [],
        "link_url": None,
        "media": [],
    }
    assert body["engagement"] == {
        "likes_count": 0,
        "comments_count": 0,
        "shares_count": 0,
        "views_count": 0,
    }
    assert body["author"]["id"] == alice.id
    assert body["author"]["username"] == alice.username
    assert body["author_id"] == alice.id
    assert body["viewer"] == {"liked": False, "shared": False}
    assert body["created_at"] == body["updated_at"]
    assert datetime.fromisoformat(body["created_at"]).tzinfo is not None


async def test_created_post_reads_back_identically(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    created = await api.post(alice, "read me back")
    r = await client.get(f"/api/v1/content/{created['id']}", headers=alice.headers)
    assert r.status_code == 200
    assert r.json() == created


async def test_anonymous_read_has_no_viewer_state(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    created = await api.post(alice)
    r = await client.get(f"/api/v1/content/{created['id']}")
    assert r.status_code == 200
    assert r.json()["viewer"] is None


async def test_visibility_defaults_to_public(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    r = await _create(client, alice, {"text": "default"})
    assert r.status_code == 201
    assert r.json()["visibility"] == "public"


async def test_type_is_accepted_as_alias_of_content_type(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice = await api.register()
    r = await _create(client, alice, {"type": "text", "text": "spec spelling"})
    assert r.status_code == 201
    assert r.json()["content_type"] == "text"
    r = await _create(client, alice, {"type": "link", "link_url": "https://example.org/a"})
    assert r.status_code == 201
    assert r.json()["content_type"] == "link"


async def test_text_of_exactly_5000_characters_is_accepted(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice = await api.register()
    r = await _create(client, alice, {"text": "a" * 5000})
    assert r.status_code == 201
    assert len(r.json()["content"]["text"]) == 5000


async def test_korean_text_of_5000_characters_is_accepted(
    api: Api, client: httpx.AsyncClient
) -> None:
    # 5000 code points are 15000 UTF-8 bytes: the limit counts characters, not bytes.
    alice = await api.register()
    r = await _create(client, alice, {"text": "가" * 5000})
    assert r.status_code == 201
    assert r.json()["content"]["text"] == "가" * 5000


@pytest.mark.parametrize("char", ["a", "가", "😀"])
async def test_text_over_5000_characters_is_422(
    api: Api, client: httpx.AsyncClient, char: str
) -> None:
    alice = await api.register()
    r = await _create(client, alice, {"text": char * 5001})
    _assert_error(r, 422, "text_too_long")
    assert r.json()["error"]["details"] == {"max_length": 5000, "length": 5001}


async def test_emoji_count_as_one_character_each(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    r = await _create(client, alice, {"text": "😀" * 5000})
    assert r.status_code == 201


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
async def test_empty_text_post_is_422(api: Api, client: httpx.AsyncClient, text: str) -> None:
    alice = await api.register()
    r = await _create(client, alice, {"text": text})
    _assert_error(r, 422, "text_required")


async def test_missing_text_on_a_text_post_is_422(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    r = await _create(client, alice, {"visibility": "public"})
    _assert_error(r, 422, "text_required")


async def test_link_post_without_link_url_is_422(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    r = await _create(client, alice, {"content_type": "link", "text": "look"})
    _assert_error(r, 422, "link_url_required")


async def test_link_post_with_link_url_is_201(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    r = await _create(
        client, alice, {"content_type": "link", "text": "", "link_url": "https://example.org/x?y=1"}
    )
    assert r.status_code == 201
    body = r.json()
    assert body["content_type"] == "link"
    assert body["content"]["link_url"] == "https://example.org/x?y=1"


@pytest.mark.parametrize("url", ["not a url", "ftp://example.org/file", "javascript:alert(1)"])
async def test_link_post_with_a_bad_url_is_422(
    api: Api, client: httpx.AsyncClient, url: str
) -> None:
    alice = await api.register()
    r = await _create(client, alice, {"content_type": "link", "link_url": url})
    _assert_error(r, 422, "validation_error")


@pytest.mark.parametrize("content_type", ["image", "video"])
async def test_image_and_video_posts_without_media_ids_are_422(
    api: Api, client: httpx.AsyncClient, content_type: str
) -> None:
    alice = await api.register()
    r = await _create(client, alice, {"content_type": content_type, "text": "look at this"})
    _assert_error(r, 422, "media_required")


async def test_media_ids_on_a_text_post_are_422(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    body = {"text": "with media", "media_ids": ["01890a5d-ac96-774b-bcce-b302099a8057"]}
    _assert_error(await _create(client, alice, body), 422, "media_type_mismatch")


async def test_an_empty_media_ids_list_on_a_text_post_is_accepted(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice = await api.register()
    r = await _create(client, alice, {"text": "no media", "media_ids": []})
    assert r.status_code == 201, r.text


async def test_unknown_media_ids_on_an_image_post_via_type_alias_are_422(
    api: Api, client: httpx.AsyncClient
) -> None:
    # The spec's exact request body.
    alice = await api.register()
    body = {
        "type": "image",
        "text": "spec body",
        "media_ids": ["01890a5d-ac96-774b-bcce-b302099a8057"],
        "visibility": "public",
    }
    _assert_error(await _create(client, alice, body), 422, "media_not_found")


@pytest.mark.parametrize(
    "body",
    [
        {"text": "hi", "colour": "red"},
        {"text": "hi", "author_id": "01890a5d-ac96-774b-bcce-b302099a8057"},
        {"text": "hi", "engagement": {"likes_count": 1000}},
    ],
    ids=["unknown", "author_id", "engagement"],
)
async def test_unknown_fields_are_422(
    api: Api, client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    alice = await api.register()
    _assert_error(await _create(client, alice, body), 422, "validation_error")


@pytest.mark.parametrize("visibility", ["everyone", "PUBLIC", "", None, 1])
async def test_bad_visibility_is_422(api: Api, client: httpx.AsyncClient, visibility: Any) -> None:
    alice = await api.register()
    r = await _create(client, alice, {"text": "hi", "visibility": visibility})
    _assert_error(r, 422, "validation_error")


@pytest.mark.parametrize("content_type", ["audio", "TEXT", 3])
async def test_bad_content_type_is_422(
    api: Api, client: httpx.AsyncClient, content_type: Any
) -> None:
    alice = await api.register()
    r = await _create(client, alice, {"text": "hi", "content_type": content_type})
    _assert_error(r, 422, "validation_error")


@pytest.mark.parametrize("body", [["text"], "text", 42, None], ids=["list", "str", "int", "null"])
async def test_non_object_body_is_422(api: Api, client: httpx.AsyncClient, body: Any) -> None:
    alice = await api.register()
    r = await _create(client, alice, body)
    _assert_error(r, 422, "validation_error")


async def test_text_of_the_wrong_type_is_422(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    _assert_error(await _create(client, alice, {"text": 5}), 422, "validation_error")


async def test_malformed_json_is_400(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    r = await client.post(
        "/api/v1/content",
        content=b'{"text": "hi"',
        headers={**alice.headers, "Content-Type": "application/json"},
    )
    _assert_error(r, 400, "malformed_json")


async def test_create_requires_authentication(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/content", json={"text": "who am i"})
    _assert_error(r, 401, "authentication_required")


@pytest.mark.parametrize(
    ("text", "hashtags"),
    [
        ("오늘 #맛집 탐방", ["맛집"]),
        ("#Café au lait", ["café"]),
        ("learning #python3 and #Python3", ["python3"]),
        ("#맛집 #Café #python3", ["맛집", "café", "python3"]),
        ("issue #1 on http://x.org/#frag", []),
    ],
)
async def test_hashtags_are_parsed_and_case_folded(
    api: Api, client: httpx.AsyncClient, text: str, hashtags: list[str]
) -> None:
    alice = await api.register()
    assert (await api.post(alice, text))["content"]["hashtags"] == hashtags


async def test_client_cannot_supply_hashtags(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    r = await _create(client, alice, {"text": "no tags", "hashtags": ["spam"]})
    _assert_error(r, 422, "validation_error")


async def test_mentions_resolve_to_user_ids_in_order(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob, carol = await api.register(), await api.register(), await api.register()
    post = await api.post(alice, f"hi @{carol.username} and @{bob.username.upper()}님")
    assert post["content"]["mentions"] == [carol.id, bob.id]


async def test_unknown_mentions_are_dropped(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    post = await api.post(alice, f"@nobody_here and @{bob.username}, mail bob@example.org")
    assert post["content"]["mentions"] == [bob.id]
    assert post["content"]["text"] == f"@nobody_here and @{bob.username}, mail bob@example.org"


async def test_deleted_users_name_is_not_resolved(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    assert (await client.delete("/api/v1/users/me", headers=bob.headers)).status_code == 204
    post = await api.post(alice, f"where is @{bob.username}?")
    assert post["content"]["mentions"] == []


async def test_self_mention_resolves(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    post = await api.post(alice, f"note to self @{alice.username}")
    assert post["content"]["mentions"] == [alice.id]


@pytest.mark.parametrize(
    "text", ["nul \u0000 inside", "lone \ud800 surrogate", "#tag\udfff"], ids=["nul", "high", "low"]
)
async def test_unstorable_characters_are_422_not_500(
    api: Api, client: httpx.AsyncClient, text: str
) -> None:
    # JSON can carry "\u0000" and unpaired surrogates; neither can be stored as UTF-8 text.
    alice = await api.register()
    _assert_error(await _create(client, alice, {"text": text}), 422, "validation_error")


async def test_emoji_sent_as_a_surrogate_pair_escape_is_fine(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice = await api.register()
    r = await client.post(
        "/api/v1/content",
        content=b'{"text": "smile \\ud83d\\ude00 #\\ud83d\\ude00ok"}',
        headers={**alice.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 201
    assert r.json()["content"]["text"] == "smile 😀 #😀ok"


async def test_link_url_longer_than_2048_characters_is_422(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice = await api.register()
    base = "https://example.org/"
    ok = await _create(
        client, alice, {"content_type": "link", "link_url": base + "a" * (2048 - len(base))}
    )
    assert ok.status_code == 201
    r = await _create(client, alice, {"content_type": "link", "link_url": base + "a" * 2100})
    _assert_error(r, 422, "validation_error")


async def test_type_and_content_type_together_are_422(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    body = {"type": "image", "content_type": "text", "text": "which one?"}
    _assert_error(await _create(client, alice, body), 422, "validation_error")
