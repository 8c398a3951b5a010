"""Receive a multipart upload as a stream: the file goes to a temporary file on disk.

The type is decided from the first bytes (magic numbers), never from the file name or
the part's Content-Type, and the size limit of that type is enforced while the bytes
arrive: a 50 MB "image" is refused after 10 MB, not after the whole body was stored.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request

from snsfeed.config import Settings
from snsfeed.media.models import MediaKind
from snsfeed.platform.errors import AppError, BadRequest, PayloadTooLarge, Unprocessable

SNIFF_BYTES = 32
FILE_FIELD = "file"
DESCRIPTION_FIELD = "description"


class UnsupportedMediaType(AppError):
    status_code = 415
    code = "unsupported_media_type"


@dataclass(frozen=True)
class Upload:
    path: Path
    kind: MediaKind
    source_type: str
    size: int
    description: str | None


def sniff(head: bytes) -> tuple[MediaKind, str] | None:
    """(kind, MIME type) from a file's first bytes, for the formats we accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return MediaKind.IMAGE, "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaKind.IMAGE, "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return MediaKind.IMAGE, "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return MediaKind.IMAGE, "image/webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand.startswith(b"qt"):
            return MediaKind.VIDEO, "video/quicktime"
        if brand[:3] in (b"hei", b"mif", b"avi", b"hev"):
            return None  # HEIF/AVIF stills share the ISO container but are not accepted
        return MediaKind.VIDEO, "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return MediaKind.VIDEO, "video/webm"
    return None


class _Receiver:
    """python-multipart callbacks: the ``file`` part to disk, ``description`` to memory."""

    def __init__(self, settings: Settings, folder: Path) -> None:
        self.settings = settings
        self.folder = folder
        self.header_field = b""
        self.header_value = b""
        self.part_name: str | None = None
        self.part_headers: dict[bytes, bytes] = {}
        self.file: IO[bytes] | None = None
        self.file_path: Path | None = None
        self.head = b""
        self.kind: tuple[MediaKind, str] | None = None
        self.size = 0
        self.files_seen = 0
        self.description: bytearray | None = None
        self.completed_file = False

    def on_part_begin(self) -> None:
        self.part_headers = {}
        self.part_name = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.part_headers[self.header_field.lower()] = self.header_value
        self.header_field = b""
        self.header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.part_headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        self.part_name = name
        if name == FILE_FIELD:
            self.files_seen += 1
            if self.files_seen > 1:
                raise BadRequest("Send one file per upload", code="too_many_files")
            fd, raw = tempfile.mkstemp(dir=self.folder, prefix="upload-")
            self.file_path = Path(raw)
            self.file = open(fd, "wb")  # noqa: SIM115 - closed in on_part_end / close()
        elif name == DESCRIPTION_FIELD:
            self.description = bytearray()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.part_name == FILE_FIELD and self.file is not None:
            self._file_data(chunk)
        elif self.part_name == DESCRIPTION_FIELD and self.description is not None:
            self.description += chunk
            # Bytes, not characters: UTF-8 needs up to four per character.
            if len(self.description) > 4 * self.settings.media_description_max_length + 4:
                raise Unprocessable("description is too long", code="description_too_long")

    def _file_data(self, chunk: bytes) -> None:
        assert self.file is not None
        if self.kind is None and len(self.head) < SNIFF_BYTES:
            self.head += chunk[: SNIFF_BYTES - len(self.head)]
            if len(self.head) >= SNIFF_BYTES:
                self._decide_kind()
        self.size += len(chunk)
        if self.kind is not None:
            self._check_size()
        self.file.write(chunk)

    def _decide_kind(self) -> None:
        self.kind = sniff(self.head)
        if self.kind is None:
            raise UnsupportedMediaType(
                "Unsupported file type: send a JPEG, PNG, WebP or GIF image, "
                "or an MP4, MOV or WebM video",
                details={"detected_from": "content"},
            )

    def _check_size(self) -> None:
        assert self.kind is not None
        limit = (
            self.settings.media_max_image_bytes
            if self.kind[0] == MediaKind.IMAGE
            else self.settings.media_max_video_bytes
        )
        if self.size > limit:
            raise PayloadTooLarge(
                f"{self.kind[0].value.capitalize()} files may be at most {limit} bytes",
                code="file_too_large",
                details={"max_bytes": limit, "kind": self.kind[0].value},
            )

    def on_part_end(self) -> None:
        if self.part_name == FILE_FIELD and self.file is not None:
            self.file.close()
            self.file = None
            self.completed_file = True

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    def result(self) -> Upload:
        if not self.completed_file or self.file_path is None:
            raise Unprocessable("The form needs a `file` part", code="file_required")
        if self.size == 0:
            raise Unprocessable("The file is empty", code="empty_file")
        if self.kind is None:
            # Shorter than the sniffing window: decide from what there is.
            self._decide_kind()
            assert self.kind is not None
            self._check_size()
        description = None
        if self.description is not None:
            try:
                description = self.description.decode("utf-8").strip() or None
            except UnicodeDecodeError:
                raise Unprocessable("description is not UTF-8", code="invalid_text") from None
            limit = self.settings.media_description_max_length
            if description and len(description) > limit:
                raise Unprocessable(
                    f"description is longer than {limit} characters",
                    code="description_too_long",
                )
        return Upload(self.file_path, self.kind[0], self.kind[1], self.size, description)


async def receive_upload(request: Request, settings: Settings, folder: Path) -> Upload:
    """Stream the request body into ``folder``; the caller owns (and removes) the folder."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise UnsupportedMediaType(
            "Send the file as multipart/form-data with a `file` part", code="multipart_required"
        )
    receiver = _Receiver(settings, folder)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": receiver.on_part_begin,
            "on_part_data": receiver.on_part_data,
            "on_part_end": receiver.on_part_end,
            "on_header_field": receiver.on_header_field,
            "on_header_value": receiver.on_header_value,
            "on_header_end": receiver.on_header_end,
            "on_headers_finished": receiver.on_headers_finished,
        },
        max_header_count=8,
    )
    try:
        async for chunk in request.stream():
            if chunk:
                parser.write(chunk)
        parser.finalize()
    except ClientDisconnect:
        raise BadRequest("The upload was interrupted", code="upload_interrupted") from None
    except (AppError, HTTPException):
        raise  # our own refusals, and the body-size limit (413)
    except Exception as exc:  # the multipart framing itself is broken
        raise BadRequest(f"Malformed multipart body: {exc}", code="malformed_multipart") from None
    finally:
        receiver.close()
    return receiver.result()
