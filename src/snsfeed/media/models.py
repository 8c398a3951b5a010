from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from snsfeed.platform.db import Base, UTCDateTime
from snsfeed.platform.ids import new_id
from snsfeed.platform.time import utcnow


class MediaKind(enum.StrEnum):
    IMAGE = "image"
    VIDEO = "video"


class MediaStatus(enum.StrEnum):
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class Media(Base):
    """One upload and the files made from it.

    ``owner_id`` and ``post_id`` carry no foreign keys: the media context keeps its rows
    (and so the storage keys to delete) after the account or the post is gone, until the
    cleanup job has removed the files.
    """

    __tablename__ = "media"
    __table_args__ = (
        Index("ix_media_owner_id_id", "owner_id", "id"),
        Index("ix_media_delete_after", "delete_after"),
        # Serves both "media of these posts" and the cleanup's "unattached since".
        Index("ix_media_post_id_created_at", "post_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    # The type detected from the bytes (never the client's file name or header).
    source_type: Mapped[str] = mapped_column(String(64), nullable=False)
    source_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # Storage key of the uploaded original while a video waits for the transcoder.
    source_key: Mapped[str | None] = mapped_column(String(512))
    description: Mapped[str | None] = mapped_column(Text)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    blurhash: Mapped[str | None] = mapped_column(String(64))
    # {name: {key, url, width, height, content_type, bytes}}
    variants: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    post_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    attached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the post or the account goes, or the owner deletes the upload; the cleanup
    # job removes the files and the row from then on.
    delete_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    def storage_keys(self) -> list[str]:
        keys = [v["key"] for v in self.variants.values()]
        if self.source_key:
            keys.append(self.source_key)
        return keys
