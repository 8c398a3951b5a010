from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from snsfeed.media.models import Media, MediaKind, MediaStatus

# Which stored file is the main one and which the preview, per kind.
MAIN_VARIANT = {MediaKind.IMAGE: "large", MediaKind.VIDEO: "video"}
PREVIEW_VARIANT = {MediaKind.IMAGE: "small", MediaKind.VIDEO: "poster"}


class MediaVariant(BaseModel):
    url: str
    width: int
    height: int
    content_type: str
    bytes: int


class MediaMeta(BaseModel):
    width: int | None = Field(default=None, description="Of the stored original (or the video)")
    height: int | None = None
    duration_seconds: float | None = None
    blurhash: str | None = Field(default=None, description="Placeholder to show while loading")
    source_type: str = Field(description="MIME type detected from the uploaded bytes")


class MediaAttachment(BaseModel):
    """A processed file as it appears in a post."""

    id: uuid.UUID
    type: MediaKind
    url: str | None = Field(description="The main file: 1080 px WebP, or the MP4")
    preview_url: str | None = Field(description="320 px WebP, or the video's poster frame")
    variants: dict[str, MediaVariant] = Field(
        description="image: original, large (1080 px), small (320 px); video: video, poster"
    )
    meta: MediaMeta
    description: str | None = Field(default=None, description="Alt text")


class MediaOut(MediaAttachment):
    """An upload as its owner sees it, while and after it is processed."""

    status: MediaStatus
    failure_reason: str | None = None
    post_id: uuid.UUID | None = None
    created_at: datetime


def _variants(media: Media) -> dict[str, MediaVariant]:
    return {
        name: MediaVariant(**{k: v for k, v in data.items() if k != "key"})
        for name, data in media.variants.items()
    }


def _fields(media: Media) -> dict[str, Any]:
    kind = MediaKind(media.kind)
    variants = _variants(media)
    main, preview = variants.get(MAIN_VARIANT[kind]), variants.get(PREVIEW_VARIANT[kind])
    return {
        "id": media.id,
        "type": kind,
        "url": main.url if main else None,
        "preview_url": preview.url if preview else None,
        "variants": variants,
        "meta": MediaMeta(
            width=media.width,
            height=media.height,
            duration_seconds=media.duration_seconds,
            blurhash=media.blurhash,
            source_type=media.source_type,
        ),
        "description": media.description,
    }


def attachment(media: Media) -> MediaAttachment:
    return MediaAttachment(**_fields(media))


def media_out(media: Media) -> MediaOut:
    return MediaOut(
        **_fields(media),
        status=MediaStatus(media.status),
        failure_reason=media.failure_reason,
        post_id=media.post_id,
        created_at=media.created_at,
    )
