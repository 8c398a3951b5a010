"""Media fixtures: a moto S3 server on 127.0.0.1, storage backends, an upload client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import httpx
import pytest
from fastapi import FastAPI
from moto.server import ThreadedMotoServer
from pydantic import SecretStr

from snsfeed.media.storage import LocalStorage, MediaStorage, S3Storage
from tests.helpers import Account

S3_BUCKET = "snsfeed-media-test"
CDN_BASE = "https://cdn.example.test/m"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS).create_bucket(
        Bucket=S3_BUCKET
    )
    try:
        yield endpoint
    finally:
        server.stop()


@dataclass
class Backend:
    name: str
    storage: MediaStorage
    s3: Any = None  # a boto3 client on the moto server

    def key_of(self, url: str) -> str:
        # Keys are "<media id>/<file>", the last two segments of every public URL.
        return "/".join(url.rstrip("/").split("/")[-2:])

    def read(self, url: str) -> bytes:
        key = self.key_of(url)
        if isinstance(self.storage, LocalStorage):
            return self.storage.path_of(key).read_bytes()
        body: bytes = self.s3.get_object(Bucket=S3_BUCKET, Key=key)["Body"].read()
        return body

    def exists(self, url: str) -> bool:
        key = self.key_of(url)
        if isinstance(self.storage, LocalStorage):
            return self.storage.path_of(key).exists()
        listed = self.s3.list_objects_v2(Bucket=S3_BUCKET, Prefix=key)
        return bool(listed.get("KeyCount"))


def _swap_storage(app: FastAPI, storage: MediaStorage) -> MediaStorage:
    previous: MediaStorage = app.state.media_storage
    app.state.media_storage = storage
    bus = app.state.runtime.bus
    if bus is not None:
        bus.ctx.extras["media_storage"] = storage
    return previous


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, app: FastAPI) -> Iterator[Backend]:
    """The app's media storage for this test: its local folder, or S3 on the moto server."""
    if request.param == "local":
        yield Backend("local", app.state.media_storage)
        return
    endpoint = request.getfixturevalue("moto_endpoint")
    settings = app.state.settings.model_copy(
        update={
            "storage_url": f"s3://{S3_BUCKET}?endpoint={endpoint}",
            "s3_access_key_id": CREDENTIALS["aws_access_key_id"],
            "s3_secret_access_key": SecretStr(CREDENTIALS["aws_secret_access_key"]),
            "s3_server_side_encryption": "AES256",
            "media_cdn_base_url": CDN_BASE,
        }
    )
    storage = S3Storage(settings, S3_BUCKET, endpoint)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS)
    previous = _swap_storage(app, storage)
    try:
        yield Backend("s3", storage, client)
    finally:
        _swap_storage(app, previous)


@pytest.fixture
def local(app: FastAPI) -> Backend:
    """The app's own local storage, for tests that need one backend only."""
    return Backend("local", app.state.media_storage)


@pytest.fixture
def app_settings(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The running app's settings, for tests that lower a limit (undone after the test)."""

    class Setter:
        def set(self, **values: Any) -> None:
            for name, value in values.items():
                monkeypatch.setattr(app.state.settings, name, value)

    return Setter()


class MediaApi:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def upload(
        self,
        who: Account,
        data: bytes,
        filename: str = "upload.bin",
        content_type: str = "application/octet-stream",
        description: str | None = None,
    ) -> httpx.Response:
        form = {"description": description} if description is not None else None
        return await self.client.post(
            "/api/v1/media",
            files={"file": (filename, data, content_type)},
            data=form,
            headers=who.headers,
        )

    async def ready(self, who: Account, data: bytes, **kwargs: Any) -> dict[str, Any]:
        r = await self.upload(who, data, **kwargs)
        assert r.status_code in (201, 202), r.text
        body = await self.settled(who, r.json()["id"])
        assert body["status"] == "ready", body
        return body

    async def settled(self, who: Account, media_id: str, within: float = 60) -> dict[str, Any]:
        """Poll until the upload is no longer processing."""
        deadline = time.monotonic() + within
        while True:
            r = await self.client.get(f"/api/v1/media/{media_id}", headers=who.headers)
            assert r.status_code == 200, r.text
            body: dict[str, Any] = r.json()
            if body["status"] != "processing":
                return body
            assert time.monotonic() < deadline, f"still processing after {within} s"
            await asyncio.sleep(0.05)


@pytest.fixture
def media(client: httpx.AsyncClient) -> MediaApi:
    return MediaApi(client)
