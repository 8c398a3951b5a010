"""Where media files live: a local folder (embedded default) or any S3-compatible store.

Keys look like ``<media id>/<variant>.<ext>``. Files are immutable once written (a new
upload gets a new id), which is what lets them be cached for a year by browsers and CDNs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, urlsplit

from snsfeed.config import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CACHE_CONTROL = "public, max-age=31536000, immutable"
LOCAL_URL_PREFIX = "/media/"


class StorageError(Exception):
    """The storage backend failed (not the client's fault)."""


class MissingObject(StorageError):
    """The key does not exist (any more)."""


class MediaStorage(Protocol):
    async def put(self, key: str, path: Path, content_type: str) -> None: ...

    async def fetch(self, key: str, dest: Path) -> None:
        """Copy the object to a local file; MissingObject if it is not there."""

    async def delete(self, keys: list[str]) -> None:
        """Remove the objects; missing ones are not an error."""

    def url(self, key: str) -> str: ...


def _public_url(settings: Settings, key: str, fallback_base: str) -> str:
    base = settings.media_cdn_base_url or fallback_base
    return f"{base.rstrip('/')}/{key}"


class LocalStorage:
    def __init__(self, settings: Settings, root: Path) -> None:
        self.settings = settings
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def path_of(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise StorageError(f"key escapes the media folder: {key!r}")
        return path

    async def put(self, key: str, path: Path, content_type: str) -> None:
        dest = self.path_of(key)

        def copy() -> None:
            dest.parent.mkdir(parents=True, exist_ok=True)
            partial = dest.with_name(dest.name + ".part")
            shutil.copyfile(path, partial)
            # Readers never see a half-written file under the final name.
            os.replace(partial, dest)

        await asyncio.to_thread(copy)

    async def fetch(self, key: str, dest: Path) -> None:
        src = self.path_of(key)
        try:
            await asyncio.to_thread(shutil.copyfile, src, dest)
        except FileNotFoundError as exc:
            raise MissingObject(key) from exc

    async def delete(self, keys: list[str]) -> None:
        def remove() -> None:
            for key in keys:
                path = self.path_of(key)
                path.unlink(missing_ok=True)
                # Drop the media's folder once it is empty.
                if path.parent != self.root:
                    with contextlib.suppress(OSError):
                        path.parent.rmdir()

        await asyncio.to_thread(remove)

    def url(self, key: str) -> str:
        return _public_url(self.settings, key, LOCAL_URL_PREFIX)


class S3Storage:
    """boto3 in worker threads: the client is thread-safe and transfers stream from disk."""

    def __init__(self, settings: Settings, bucket: str, endpoint: str | None) -> None:
        import boto3
        from botocore.config import Config

        self.settings = settings
        self.bucket = bucket
        self.endpoint = endpoint
        secret = settings.s3_secret_access_key
        self.client: S3Client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
            config=Config(
                s3={"addressing_style": "path"} if endpoint else {},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
            ),
        )

    def _extra_args(self, content_type: str) -> dict[str, Any]:
        extra: dict[str, Any] = {"ContentType": content_type, "CacheControl": CACHE_CONTROL}
        if self.settings.s3_server_side_encryption:
            extra["ServerSideEncryption"] = self.settings.s3_server_side_encryption
            if self.settings.s3_kms_key_id:
                extra["SSEKMSKeyId"] = self.settings.s3_kms_key_id
        return extra

    async def put(self, key: str, path: Path, content_type: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            await asyncio.to_thread(
                self.client.upload_file,
                str(path),
                self.bucket,
                key,
                ExtraArgs=self._extra_args(content_type),
            )
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"S3 upload of {key} failed: {exc}") from exc

    async def fetch(self, key: str, dest: Path) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            await asyncio.to_thread(self.client.download_file, self.bucket, key, str(dest))
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                raise MissingObject(key) from exc
            raise StorageError(f"S3 download of {key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 download of {key} failed: {exc}") from exc

    async def delete(self, keys: list[str]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        # DeleteObjects takes at most 1000 keys per call.
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            try:
                await asyncio.to_thread(
                    self.client.delete_objects,
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True},
                )
            except (BotoCoreError, ClientError) as exc:
                raise StorageError(f"S3 delete failed: {exc}") from exc

    def url(self, key: str) -> str:
        if self.endpoint:
            fallback = f"{self.endpoint.rstrip('/')}/{self.bucket}"
        else:
            fallback = f"https://{self.bucket}.s3.{self.settings.s3_region}.amazonaws.com"
        return _public_url(self.settings, key, fallback)


def create_storage(settings: Settings) -> LocalStorage | S3Storage:
    """From ``SNSFEED_STORAGE_URL``: ``s3://bucket?endpoint=http://host:port``, else local."""
    if not settings.storage_url:
        return LocalStorage(settings, settings.data_dir / "media")
    parts = urlsplit(settings.storage_url)
    if parts.scheme == "s3" and parts.netloc:
        endpoint = parse_qs(parts.query).get("endpoint", [None])[0]
        return S3Storage(settings, parts.netloc, endpoint)
    if parts.scheme == "file":
        return LocalStorage(settings, Path(parts.path))
    raise ValueError(
        f"SNSFEED_STORAGE_URL must be s3://bucket?endpoint=… or file:///path, not {parts.scheme!r}"
    )
