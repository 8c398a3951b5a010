from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from snsfeed.platform.db import Base, UTCDateTime
from snsfeed.platform.ids import new_id
from snsfeed.platform.time import utcnow


class ContentType(enum.StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    LINK = "link"


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    FOLLOWERS = "followers"
    PRIVATE = "private"


class Post(Base):
    """The spec's content document, flattened into columns plus JSON lists."""

    __tablename__ = "content"
    __table_args__ = (Index("ix_content_author_id_id", "author_id", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    author_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    content_type: Mapped[str] = mapped_column(String(16), nullable=False)
    visibility: Mapped[str] = mapped_column(String(16), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    link_url: Mapped[str | None] = mapped_column(String(2048))
    media_urls: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    hashtags: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    mentions: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    likes_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    comments_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    shares_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    views_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # author | moderator | account_deleted
    deletion_reason: Mapped[str | None] = mapped_column(String(32))


class PostHashtag(Base):
    """Hashtag index: posts by tag without scanning JSON."""

    __tablename__ = "content_hashtags"
    __table_args__ = (Index("ix_content_hashtags_tag_content_id", "tag", "content_id"),)

    content_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("content.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(100), primary_key=True)
