from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, AliasChoices, AnyHttpUrl, BaseModel, ConfigDict, Field

from snsfeed.content.models import ContentType, Visibility
from snsfeed.users.schemas import UserSummary

# The ``link_url`` column's width; longer URLs must be a 422, not a database error.
MAX_LINK_URL_LENGTH = 2048


def _storable_text(value: str) -> str:
    # PostgreSQL text cannot hold U+0000 and no UTF-8 encoder accepts a lone surrogate
    # (JSON allows both as escapes): refuse them here instead of failing in the driver.
    if "\x00" in value:
        raise ValueError("text must not contain the NUL character (U+0000)")
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError("text must not contain unpaired surrogates")
    return value


def _storable_url(value: AnyHttpUrl) -> AnyHttpUrl:
    if len(str(value)) > MAX_LINK_URL_LENGTH:
        raise ValueError(f"URL must be at most {MAX_LINK_URL_LENGTH} characters")
    return value


PostText = Annotated[str, AfterValidator(_storable_text)]
LinkUrl = Annotated[AnyHttpUrl, AfterValidator(_storable_url)]


class ContentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    content_type: ContentType = Field(
        default=ContentType.TEXT,
        validation_alias=AliasChoices("content_type", "type"),
        description="text | image | video | link (`type` is accepted as in the spec)",
    )
    text: PostText = Field(
        default="", description="Post text; hashtags and @mentions are parsed from it"
    )
    link_url: LinkUrl | None = Field(default=None, description="Required for link posts")
    media_ids: list[uuid.UUID] | None = Field(
        default=None, description="Not accepted yet: media uploads arrive with the media service"
    )
    visibility: Visibility = Visibility.PUBLIC


class ContentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: PostText | None = None
    link_url: LinkUrl | None = None
    visibility: Visibility | None = None


class ContentBody(BaseModel):
    text: str
    media_urls: list[str]
    hashtags: list[str]
    mentions: list[uuid.UUID]
    link_url: str | None = None


class EngagementCounts(BaseModel):
    likes_count: int
    comments_count: int
    shares_count: int
    views_count: int


class ViewerState(BaseModel):
    liked: bool = False
    shared: bool = False


class ContentOut(BaseModel):
    id: uuid.UUID
    author_id: uuid.UUID
    author: UserSummary
    content_type: ContentType
    visibility: Visibility
    content: ContentBody
    engagement: EngagementCounts
    viewer: ViewerState | None = Field(
        default=None, description="The caller's own state (absent for anonymous callers)"
    )
    created_at: datetime
    updated_at: datetime


class ContentList(BaseModel):
    items: list[ContentOut]
    next_cursor: str | None
