"""Hostile and broken files: a clear 4xx or a ``failed`` status, never a 500 or a hang."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.helpers import Api
from tests.media.conftest import Backend, MediaApi
from tests.media.files import image_bytes, png_bomb, png_header_only, video_bytes


def _error(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    error: dict[str, Any] = r.json()["error"]
    assert error["code"] == code, error
    assert error["message"]
    return error


async def test_a_zero_byte_file_is_422(api: Api, media: MediaApi) -> None:
    alice = await api.register()
    _error(await media.upload(alice, b"", "empty.jpg", "image/jpeg"), 422, "empty_file")


@pytest.mark.parametrize(
    "data",
    [
        b"<html><script>alert(1)</script></html>" * 4,
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
        b"PK\x03\x04" + b"\x00" * 60,
        b"hi",
    ],
    ids=["html", "pdf", "zip", "tiny-text"],
)
async def test_files_that_are_not_images_or_videos_are_415_whatever_their_name(
    api: Api, media: MediaApi, data: bytes
) -> None:
    alice = await api.register()
    r = await media.upload(alice, data, "cute-cat.jpg", "image/jpeg")
    _error(r, 415, "unsupported_media_type")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP"])
async def test_a_truncated_image_is_422(api: Api, media: MediaApi, fmt: str) -> None:
    alice = await api.register()
    data = image_bytes(fmt, (300, 300))
    _error(await media.upload(alice, data[: len(data) // 2]), 422, "image_invalid")


async def test_an_image_with_garbage_after_a_valid_header_is_422(api: Api, media: MediaApi) -> None:
    alice = await api.register()
    data = image_bytes("PNG", (100, 100))
    corrupt = data[:60] + bytes(b ^ 0x5A for b in data[60:])
    _error(await media.upload(alice, corrupt), 422, "image_invalid")


async def test_a_png_decompression_bomb_is_refused_before_decoding(
    api: Api, media: MediaApi
) -> None:
    alice = await api.register()
    bomb = png_bomb(12_000, 12_000)  # 144 megapixels in about 150 KB
    assert len(bomb) < 1_000_000
    started = time.monotonic()
    _error(await media.upload(alice, bomb), 422, "image_too_many_pixels")
    # Refused from the header: decoding 144 MP would take far longer than this.
    assert time.monotonic() - started < 5


async def test_a_header_claiming_more_pixels_than_pillow_allows_is_422(
    api: Api, media: MediaApi
) -> None:
    # 225 MP: past twice Pillow's own limit, where Image.open itself refuses.
    alice = await api.register()
    r = await media.upload(alice, png_header_only(15_000, 15_000))
    _error(r, 422, "image_too_many_pixels")


async def test_enormous_dimensions_are_422(api: Api, media: MediaApi) -> None:
    alice = await api.register()
    r = await media.upload(alice, png_header_only(100_000, 1))
    _error(r, 422, "image_dimensions_too_large")


async def test_a_polyglot_image_is_stored_without_its_payload(
    api: Api, media: MediaApi, local: Backend
) -> None:
    alice = await api.register()
    payload = b"<script>alert('polyglot')</script>PK\x03\x04zip-trailer"
    body = await media.ready(alice, image_bytes("JPEG", (200, 200)) + payload)
    for variant in body["variants"].values():
        stored = local.read(variant["url"])
        assert b"polyglot" not in stored and b"zip-trailer" not in stored
        Image.open(io.BytesIO(stored)).verify()


async def test_a_gif_header_followed_by_javascript_is_422(api: Api, media: MediaApi) -> None:
    alice = await api.register()
    r = await media.upload(alice, b"GIF89a/*" + b"\x00" * 8 + b"*/=alert(document.domain);//")
    _error(r, 422, "image_invalid")


async def test_an_image_over_the_size_limit_is_413_while_streaming(
    api: Api, media: MediaApi, app_settings: Any
) -> None:
    app_settings.set(media_max_image_bytes=50_000)
    alice = await api.register()
    data = image_bytes("JPEG", (64, 64)) + b"\x00" * 200_000
    error = _error(await media.upload(alice, data), 413, "file_too_large")
    assert error["details"] == {"max_bytes": 50_000, "kind": "image"}


async def test_a_body_over_the_upload_limit_is_413(
    api: Api, client: httpx.AsyncClient, app: Any
) -> None:
    alice = await api.register()
    limit = app.state.settings.media_max_upload_bytes
    r = await client.post(
        "/api/v1/media",
        content=b"x" * 16,
        headers={
            **alice.headers,
            "Content-Type": "multipart/form-data; boundary=b",
            "Content-Length": str(limit + 1),
        },
    )
    _error(r, 413, "payload_too_large")


async def test_a_non_multipart_body_is_415(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    r = await client.post("/api/v1/media", json={"file": "x"}, headers=alice.headers)
    _error(r, 415, "multipart_required")


async def test_a_form_without_a_file_part_is_422(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    r = await client.post(
        "/api/v1/media", files={"description": (None, "no file")}, headers=alice.headers
    )
    _error(r, 422, "file_required")


async def test_broken_multipart_framing_is_400(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    r = await client.post(
        "/api/v1/media",
        content=b'--b\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc',
        headers={**alice.headers, "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert r.status_code in (400, 422), r.text


async def test_two_files_in_one_upload_are_400(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    jpeg = image_bytes("JPEG", (20, 20))
    r = await client.post(
        "/api/v1/media",
        files=[("file", ("a.jpg", jpeg)), ("file", ("b.jpg", jpeg))],
        headers=alice.headers,
    )
    _error(r, 400, "too_many_files")


async def test_a_description_over_the_limit_is_422(api: Api, media: MediaApi) -> None:
    alice = await api.register()
    r = await media.upload(alice, image_bytes("JPEG", (20, 20)), description="가" * 1501)
    _error(r, 422, "description_too_long")


# --- videos: accepted (202), then failed with a reason -------------------------------------


async def _failed(media: MediaApi, who: Any, data: bytes) -> dict[str, Any]:
    r = await media.upload(who, data)
    assert r.status_code == 202, r.text
    body = await media.settled(who, r.json()["id"])
    assert body["status"] == "failed", body
    assert body["failure_reason"]
    return body


async def test_a_truncated_video_fails_with_a_reason(
    api: Api, media: MediaApi, tmp_path: Path
) -> None:
    alice = await api.register()
    data = video_bytes(tmp_path)
    body = await _failed(media, alice, data[: len(data) // 3])
    assert "corrupt" in body["failure_reason"] or "readable" in body["failure_reason"]


async def test_a_video_with_only_an_audio_track_fails(
    api: Api, media: MediaApi, tmp_path: Path
) -> None:
    alice = await api.register()
    body = await _failed(media, alice, video_bytes(tmp_path, video=False, audio=True))
    assert body["failure_reason"] == "The file has no video track"


async def test_a_video_longer_than_the_limit_fails(
    api: Api, media: MediaApi, tmp_path: Path, app_settings: Any
) -> None:
    app_settings.set(media_video_max_seconds=1.0)
    alice = await api.register()
    body = await _failed(media, alice, video_bytes(tmp_path, seconds=3, fps=2, audio=False))
    assert body["failure_reason"] == "The video is longer than 1 s"


async def test_a_live_stream_without_a_declared_duration_is_cut_off_at_the_limit(
    api: Api, media: MediaApi, tmp_path: Path, app_settings: Any
) -> None:
    # Live Matroska declares no duration: the limit must hold while decoding, as it would
    # for a stream that never ends.
    app_settings.set(media_video_max_seconds=1.0)
    alice = await api.register()
    data = video_bytes(
        tmp_path, seconds=3, fps=4, audio=False, container="matroska", options={"live": "1"}
    )
    body = await _failed(media, alice, data)
    assert body["failure_reason"] == "The video is longer than 1 s"


async def test_a_transcode_past_the_time_limit_is_killed_and_fails(
    api: Api, media: MediaApi, tmp_path: Path, app_settings: Any
) -> None:
    app_settings.set(media_transcode_timeout_seconds=0.01)
    alice = await api.register()
    body = await _failed(media, alice, video_bytes(tmp_path))
    assert body["failure_reason"] == "Processing the video took longer than 0.01 s"


async def test_a_failed_video_cannot_be_attached(
    api: Api, media: MediaApi, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    alice = await api.register()
    body = await _failed(media, alice, video_bytes(tmp_path)[:500])
    r = await client.post(
        "/api/v1/content",
        json={"type": "video", "media_ids": [body["id"]]},
        headers=alice.headers,
    )
    _error(r, 422, "media_not_ready")
