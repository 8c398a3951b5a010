"""Posts with media: attaching, presenting (post, lists, feed), deleting and cleaning up."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from snsfeed.media import service
from snsfeed.media.models import Media
from snsfeed.platform.db import session_scope
from tests.helpers import Account, Api
from tests.media.conftest import Backend, MediaApi
from tests.media.files import image_bytes, video_bytes


async def _post(
    client: httpx.AsyncClient, who: Account, content_type: str, media_ids: list[str], **extra: Any
) -> httpx.Response:
    body = {"type": content_type, "media_ids": media_ids, **extra}
    return await client.post("/api/v1/content", json=body, headers=who.headers)


def _code(r: httpx.Response) -> str:
    assert r.status_code == 422, r.text
    return str(r.json()["error"]["code"])


async def test_an_image_post_carries_its_media_in_order(
    api: Api, media: MediaApi, client: httpx.AsyncClient
) -> None:
    alice = await api.register()
    first = await media.ready(alice, image_bytes("JPEG", (500, 400)))
    second = await media.ready(alice, image_bytes("PNG", (300, 300)))
    r = await _post(client, alice, "image", [second["id"], first["id"]], text="두 장")
    assert r.status_code == 201, r.text
    content = r.json()["content"]
    assert [m["id"] for m in content["media"]] == [second["id"], first["id"]]
    assert content["media_urls"] == [second["url"], first["url"]]
    assert content["media"][0]["variants"]["small"]["width"] == 300


async def test_a_video_post_carries_the_mp4_and_poster(
    api: Api, media: MediaApi, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    alice = await api.register()
    video = await media.ready(alice, video_bytes(tmp_path))
    r = await _post(client, alice, "video", [video["id"]])
    assert r.status_code == 201, r.text
    [attached] = r.json()["content"]["media"]
    assert attached["type"] == "video"
    assert attached["url"].endswith("/video.mp4")
    assert attached["preview_url"].endswith("/poster.webp")


async def test_media_appear_when_reading_the_post_the_author_list_and_the_feed(
    api: Api, media: MediaApi, client: httpx.AsyncClient, backend: Backend
) -> None:
    alice, bob = await api.register(), await api.register()
    await api.follow(bob, alice)
    image = await media.ready(alice, image_bytes("JPEG"))
    post = (await _post(client, alice, "image", [image["id"]])).json()
    expected = [image["url"]]
    assert (await api.content(bob, post["id"]))["content"]["media_urls"] == expected
    listed = (await client.get(f"/api/v1/users/{alice.id}/content")).json()["items"]
    assert listed[0]["content"]["media_urls"] == expected
    feed = await api.feed(bob)
    assert feed["items"][0]["content"]["media_urls"] == expected
    assert feed["items"][0]["content"]["media"][0]["id"] == image["id"]


async def test_someone_elses_upload_cannot_be_attached(
    api: Api, media: MediaApi, client: httpx.AsyncClient
) -> None:
    alice, mallory = await api.register(), await api.register()
    image = await media.ready(alice, image_bytes("JPEG"))
    assert _code(await _post(client, mallory, "image", [image["id"]])) == "media_not_found"


async def test_a_processing_video_cannot_be_attached(
    api: Api, client: httpx.AsyncClient, app: FastAPI
) -> None:
    # A row still waiting for the transcoder, written directly: an upload through the
    # API could finish processing before the post arrives.
    alice = await api.register()
    waiting = Media(
        owner_id=uuid.UUID(alice.id),
        kind="video",
        status="processing",
        source_type="video/mp4",
        source_bytes=1,
    )
    async for session in session_scope(app.state.sessionmaker):
        session.add(waiting)
    r = await _post(client, alice, "video", [str(waiting.id)])
    assert _code(r) == "media_not_ready"


@pytest.mark.parametrize(
    ("content_type", "kind", "code"),
    [
        ("video", "image", "media_type_mismatch"),
        ("image", "video", "media_type_mismatch"),
        ("link", "image", "media_type_mismatch"),
    ],
)
async def test_media_must_match_the_post_type(
    api: Api,
    media: MediaApi,
    client: httpx.AsyncClient,
    tmp_path: Path,
    content_type: str,
    kind: str,
    code: str,
) -> None:
    alice = await api.register()
    data = image_bytes("JPEG") if kind == "image" else video_bytes(tmp_path)
    uploaded = await media.ready(alice, data)
    extra = {"link_url": "https://example.org/"} if content_type == "link" else {"text": "t"}
    assert _code(await _post(client, alice, content_type, [uploaded["id"]], **extra)) == code


async def test_an_upload_can_be_attached_to_one_post_only(
    api: Api, media: MediaApi, client: httpx.AsyncClient
) -> None:
    alice = await api.register()
    image = await media.ready(alice, image_bytes("JPEG"))
    assert (await _post(client, alice, "image", [image["id"]])).status_code == 201
    assert _code(await _post(client, alice, "image", [image["id"]])) == "media_already_attached"


async def test_at_most_four_images_and_one_video_per_post(
    api: Api, media: MediaApi, client: httpx.AsyncClient
) -> None:
    alice = await api.register()
    ids = [(await media.ready(alice, image_bytes("JPEG", (40, 40))))["id"] for _ in range(5)]
    assert _code(await _post(client, alice, "image", ids)) == "too_many_media"
    assert _code(await _post(client, alice, "image", [ids[0], ids[0]])) == "media_duplicate"


async def test_a_refused_post_leaves_its_media_unattached(
    api: Api, media: MediaApi, client: httpx.AsyncClient
) -> None:
    alice = await api.register()
    good = await media.ready(alice, image_bytes("JPEG"))
    r = await _post(client, alice, "image", [good["id"], "01890a5d-ac96-774b-bcce-b302099a8057"])
    assert _code(r) == "media_not_found"
    assert (await _post(client, alice, "image", [good["id"]])).status_code == 201


async def _cleanup(app: FastAPI, **overrides: Any) -> int:
    settings = app.state.settings.model_copy(update=overrides)
    removed = 0
    async for session in session_scope(app.state.sessionmaker):
        removed = await service.cleanup(session, settings, app.state.media_storage)
    return removed


async def test_deleting_a_post_lets_the_cleanup_remove_its_files(
    api: Api, media: MediaApi, client: httpx.AsyncClient, app: FastAPI, backend: Backend
) -> None:
    alice = await api.register()
    image = await media.ready(alice, image_bytes("JPEG"))
    post = (await _post(client, alice, "image", [image["id"]])).json()
    assert await _cleanup(app) == 0  # attached media are kept
    r = await client.delete(f"/api/v1/content/{post['id']}", headers=alice.headers)
    assert r.status_code == 204
    await app.state.runtime.bus.wait_idle(within_seconds=30)  # content.deleted handled
    assert await _cleanup(app) == 1
    assert not any(backend.exists(v["url"]) for v in image["variants"].values())


async def test_unattached_uploads_are_removed_after_the_grace_period_only(
    api: Api, media: MediaApi, app: FastAPI, local: Backend
) -> None:
    alice = await api.register()
    image = await media.ready(alice, image_bytes("JPEG"))
    assert await _cleanup(app, media_orphan_grace_seconds=3600) == 0
    assert await _cleanup(app, media_orphan_grace_seconds=0) == 1
    assert not local.exists(image["url"])
    r = await media.client.get(f"/api/v1/media/{image['id']}", headers=alice.headers)
    assert r.status_code == 404


async def test_an_owner_can_delete_an_unattached_upload_but_not_an_attached_one(
    api: Api, media: MediaApi, client: httpx.AsyncClient
) -> None:
    alice = await api.register()
    loose = await media.ready(alice, image_bytes("JPEG"))
    used = await media.ready(alice, image_bytes("JPEG"))
    await _post(client, alice, "image", [used["id"]])
    r = await client.delete(f"/api/v1/media/{loose['id']}", headers=alice.headers)
    assert r.status_code == 204
    assert (
        await client.get(f"/api/v1/media/{loose['id']}", headers=alice.headers)
    ).status_code == 404
    r = await client.delete(f"/api/v1/media/{used['id']}", headers=alice.headers)
    assert _code(r) == "media_attached"
