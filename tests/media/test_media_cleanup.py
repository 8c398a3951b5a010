"""The background cleanup: unattached uploads go after the grace period, attached ones stay."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from snsfeed.media.consumers import cleanup_pass
from snsfeed.platform.bus.consumer import registered_consumers
from tests.helpers import Api
from tests.media.conftest import MediaApi
from tests.media.files import image_bytes


async def test_an_unattached_upload_past_the_grace_period_is_removed_with_its_files(
    app: FastAPI, api: Api, media: MediaApi, app_settings: Any
) -> None:
    me = await api.register()
    kept = await media.ready(me, image_bytes("PNG"), filename="kept.png")
    await api.post(me, "with a picture", content_type="image", media_ids=[kept["id"]])
    orphan = await media.ready(me, image_bytes("PNG"), filename="orphan.png")
    files = [v["url"] for v in orphan["variants"].values()]
    for url in files:
        assert (await api.client.get(url)).status_code == 200

    app_settings.set(media_orphan_grace_seconds=0)
    removed = await cleanup_pass(app.state.runtime.consumer_context)

    assert removed == 1
    r = await api.client.get(f"/api/v1/media/{orphan['id']}", headers=me.headers)
    assert r.status_code == 404
    r = await api.client.get(f"/api/v1/media/{kept['id']}", headers=me.headers)
    assert r.status_code == 200
    for url in files:
        assert (await api.client.get(url)).status_code == 404


async def test_nothing_is_removed_within_the_grace_period(
    app: FastAPI, api: Api, media: MediaApi
) -> None:
    me = await api.register()
    upload = await media.ready(me, image_bytes("PNG"))
    assert await cleanup_pass(app.state.runtime.consumer_context) == 0
    r = await api.client.get(f"/api/v1/media/{upload['id']}", headers=me.headers)
    assert r.status_code == 200


def test_the_cleanup_is_a_registered_periodic_group() -> None:
    assert registered_consumers()["media-cleanup"].loop is not None
