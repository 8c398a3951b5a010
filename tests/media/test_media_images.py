"""Image uploads: processed on the request, stored on both backends, metadata stripped."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.helpers import Api
from tests.media.conftest import CDN_BASE, Backend, MediaApi
from tests.media.files import GPS_IFD, image_bytes, jpeg_with_gps_and_rotation


async def test_a_jpeg_upload_is_ready_at_once_with_webp_variants(
    api: Api, media: MediaApi, backend: Backend
) -> None:
    alice = await api.register()
    r = await media.upload(alice, image_bytes("JPEG", (2000, 1000)), "photo.jpg", "image/jpeg")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "ready"
    assert body["type"] == "image"
    sizes = {n: (v["width"], v["height"], v["content_type"]) for n, v in body["variants"].items()}
    assert sizes == {
        "original": (2000, 1000, "image/jpeg"),
        "large": (1080, 540, "image/webp"),
        "small": (320, 160, "image/webp"),
    }
    assert body["url"] == body["variants"]["large"]["url"]
    assert body["preview_url"] == body["variants"]["small"]["url"]
    assert body["meta"]["width"] == 2000 and body["meta"]["source_type"] == "image/jpeg"
    assert len(body["meta"]["blurhash"]) >= 6


async def test_every_variant_is_stored_and_decodes_to_its_advertised_size(
    api: Api, media: MediaApi, backend: Backend
) -> None:
    alice = await api.register()
    body = await media.ready(alice, image_bytes("PNG", (1500, 1500)))
    for variant in body["variants"].values():
        stored = Image.open(io.BytesIO(backend.read(variant["url"])))
        assert stored.size == (variant["width"], variant["height"])
        assert Image.MIME[stored.format] == variant["content_type"]


async def test_urls_use_the_cdn_base_on_s3_and_the_app_route_locally(
    api: Api, media: MediaApi, backend: Backend
) -> None:
    alice = await api.register()
    body = await media.ready(alice, image_bytes("JPEG"))
    prefix = f"{CDN_BASE}/" if backend.name == "s3" else "/media/"
    assert all(v["url"].startswith(prefix + body["id"]) for v in body["variants"].values())


@pytest.mark.parametrize(
    ("fmt", "source_type", "original_type"),
    [
        ("PNG", "image/png", "image/png"),
        ("WEBP", "image/webp", "image/webp"),
        ("GIF", "image/gif", "image/png"),
    ],
)
async def test_png_webp_and_gif_are_accepted(
    api: Api, media: MediaApi, fmt: str, source_type: str, original_type: str
) -> None:
    alice = await api.register()
    r = await media.upload(alice, image_bytes(fmt, (300, 200)), "x.bin")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["meta"]["source_type"] == source_type
    assert body["variants"]["original"]["content_type"] == original_type


async def test_the_type_comes_from_the_bytes_not_the_name_or_header(
    api: Api, media: MediaApi
) -> None:
    alice = await api.register()
    r = await media.upload(alice, image_bytes("PNG"), "holiday.gif", "image/gif")
    assert r.status_code == 201, r.text
    assert r.json()["meta"]["source_type"] == "image/png"


async def test_exif_and_gps_are_stripped_and_orientation_applied(
    api: Api, media: MediaApi, local: Backend
) -> None:
    alice = await api.register()
    body = await media.ready(alice, jpeg_with_gps_and_rotation((400, 200)))
    # Orientation 6: the 400×200 sensor image is shown 200×400.
    assert (body["meta"]["width"], body["meta"]["height"]) == (200, 400)
    for variant in body["variants"].values():
        data = local.read(variant["url"])
        stored = Image.open(io.BytesIO(data))
        assert not stored.getexif().get_ifd(GPS_IFD)
        assert len(stored.getexif()) == 0
        assert b"SecretCam" not in data
        assert stored.width < stored.height


async def test_small_images_are_not_upscaled(api: Api, media: MediaApi) -> None:
    alice = await api.register()
    body = await media.ready(alice, image_bytes("JPEG", (100, 80)))
    assert {(v["width"], v["height"]) for v in body["variants"].values()} == {(100, 80)}


async def test_the_description_is_kept_as_alt_text(api: Api, media: MediaApi) -> None:
    alice = await api.register()
    r = await media.upload(alice, image_bytes("JPEG"), description="  부산 해운대 일몰  ")
    assert r.status_code == 201, r.text
    assert r.json()["description"] == "부산 해운대 일몰"


async def test_an_upload_above_the_general_body_limit_is_accepted_on_the_media_route(
    api: Api, media: MediaApi, app_settings: object
) -> None:
    from tests.media.files import noise_png

    alice = await api.register()
    data = noise_png(700)  # ~1.5 MB, above SNSFEED_MAX_BODY_BYTES (1 MiB)
    assert len(data) > 1024 * 1024
    r = await media.upload(alice, data)
    assert r.status_code == 201, r.text
