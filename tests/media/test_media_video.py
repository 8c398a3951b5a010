"""Video uploads: accepted at once, transcoded by the ``media`` consumer group."""

from __future__ import annotations

import io
from pathlib import Path

import av
from PIL import Image

from tests.helpers import Api
from tests.media.conftest import Backend, MediaApi
from tests.media.files import video_bytes


async def test_a_video_upload_is_accepted_as_processing(
    api: Api, media: MediaApi, tmp_path: Path
) -> None:
    alice = await api.register()
    r = await media.upload(alice, video_bytes(tmp_path), "clip.mp4", "video/mp4")
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "processing"
    assert r.json()["url"] is None
    await media.settled(alice, r.json()["id"])  # leave no work behind for the next test


async def test_a_video_becomes_ready_as_h264_aac_mp4_with_a_poster(
    api: Api, media: MediaApi, backend: Backend, tmp_path: Path
) -> None:
    alice = await api.register()
    body = await media.ready(alice, video_bytes(tmp_path, seconds=1.0, size=(64, 48)))
    assert body["url"] == body["variants"]["video"]["url"]
    assert body["preview_url"] == body["variants"]["poster"]["url"]
    assert (body["meta"]["width"], body["meta"]["height"]) == (64, 48)
    assert 0.9 <= body["meta"]["duration_seconds"] <= 1.2
    assert body["meta"]["blurhash"]
    mp4 = tmp_path / "out.mp4"
    mp4.write_bytes(backend.read(body["url"]))
    with av.open(str(mp4)) as container:
        codecs = {s.type: s.codec_context.name for s in container.streams}
    assert codecs == {"video": "h264", "audio": "aac"}
    poster = Image.open(io.BytesIO(backend.read(body["preview_url"])))
    assert poster.format == "WEBP" and poster.size == (64, 48)


async def test_a_large_video_is_scaled_down_to_720p(
    api: Api, media: MediaApi, tmp_path: Path
) -> None:
    alice = await api.register()
    data = video_bytes(tmp_path, seconds=0.4, fps=5, size=(1280, 960), audio=False)
    body = await media.ready(alice, data)
    assert (body["meta"]["width"], body["meta"]["height"]) == (960, 720)


async def test_a_frame_rate_above_the_cap_is_reduced(
    api: Api, media: MediaApi, local: Backend, tmp_path: Path, app_settings: object
) -> None:
    app_settings.set(media_video_max_fps=5)  # type: ignore[attr-defined]
    alice = await api.register()
    body = await media.ready(alice, video_bytes(tmp_path, seconds=1.0, fps=20, audio=False))
    mp4 = tmp_path / "out.mp4"
    mp4.write_bytes(local.read(body["url"]))
    with av.open(str(mp4)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == 5


async def test_a_video_without_audio_has_no_audio_track(
    api: Api, media: MediaApi, local: Backend, tmp_path: Path
) -> None:
    alice = await api.register()
    body = await media.ready(alice, video_bytes(tmp_path, audio=False))
    mp4 = tmp_path / "out.mp4"
    mp4.write_bytes(local.read(body["url"]))
    with av.open(str(mp4)) as container:
        assert [s.type for s in container.streams] == ["video"]


async def test_the_uploaded_source_is_removed_once_processed(
    api: Api, media: MediaApi, backend: Backend, tmp_path: Path
) -> None:
    alice = await api.register()
    body = await media.ready(alice, video_bytes(tmp_path))
    assert not backend.exists(f"x/{body['id']}/source")
    assert backend.exists(body["url"])
