"""Storage backends: the local file server's caching headers, S3 object settings, URLs."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from snsfeed.config import Settings
from snsfeed.media.storage import (
    CACHE_CONTROL,
    LocalStorage,
    S3Storage,
    StorageError,
    create_storage,
)
from tests.helpers import Api
from tests.media.conftest import S3_BUCKET, Backend, MediaApi
from tests.media.files import image_bytes


async def test_local_files_are_served_with_cache_control_and_an_etag(
    api: Api, media: MediaApi, client: httpx.AsyncClient
) -> None:
    alice = await api.register()
    body = await media.ready(alice, image_bytes("JPEG"))
    r = await client.get(body["url"])
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/webp"
    assert r.headers["cache-control"] == CACHE_CONTROL
    assert r.headers["etag"]


async def test_a_local_file_with_a_matching_etag_is_304(
    api: Api, media: MediaApi, client: httpx.AsyncClient
) -> None:
    alice = await api.register()
    body = await media.ready(alice, image_bytes("JPEG"))
    etag = (await client.get(body["url"])).headers["etag"]
    r = await client.get(body["url"], headers={"If-None-Match": etag})
    assert r.status_code == 304
    assert r.headers["cache-control"] == CACHE_CONTROL


async def test_a_missing_local_file_is_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/media/01890a5d-ac96-774b-bcce-b302099a8057/large.webp")
    assert r.status_code == 404


@pytest.mark.parametrize("backend", ["s3"], indirect=True)
async def test_s3_objects_are_encrypted_typed_and_cacheable(
    api: Api, media: MediaApi, backend: Backend
) -> None:
    alice = await api.register()
    body = await media.ready(alice, image_bytes("JPEG"))
    head = backend.s3.head_object(Bucket=S3_BUCKET, Key=backend.key_of(body["url"]))
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentType"] == "image/webp"
    assert head["CacheControl"] == CACHE_CONTROL


def test_the_storage_url_selects_s3_with_its_endpoint(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, storage_url="s3://pics?endpoint=http://127.0.0.1:9")
    storage = create_storage(settings)
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.endpoint) == ("pics", "http://127.0.0.1:9")
    assert storage.url("a/b.webp") == "http://127.0.0.1:9/pics/a/b.webp"


def test_without_a_storage_url_files_go_to_the_data_dir(tmp_path: Path) -> None:
    storage = create_storage(Settings(data_dir=tmp_path))
    assert isinstance(storage, LocalStorage)
    assert storage.root == (tmp_path / "media").resolve()
    assert storage.url("a/b.webp") == "/media/a/b.webp"


def test_the_cdn_base_url_prefixes_public_urls(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, media_cdn_base_url="https://cdn.example.org/x/")
    assert create_storage(settings).url("a/b.webp") == "https://cdn.example.org/x/a/b.webp"


def test_an_unknown_storage_scheme_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SNSFEED_STORAGE_URL"):
        create_storage(Settings(data_dir=tmp_path, storage_url="ftp://host/x"))


def test_a_local_key_cannot_escape_the_media_folder(tmp_path: Path) -> None:
    storage = LocalStorage(Settings(data_dir=tmp_path), tmp_path / "media")
    with pytest.raises(StorageError):
        storage.path_of("../outside.txt")
