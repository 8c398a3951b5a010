from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, AliasChoices, AnyHttpUrl, BaseModel, ConfigDict, Field

from snsfeed.content.models import ContentType, Visibility
from snsfeed.media.schemas import MediaAttachment
from snsfeed.platform.validation import StorableText, url_at_most
from snsfeed.users.schemas import UserSummary

# The ``link_url`` column's width; longer URLs must be a 422, not a database error.
MAX_LINK_URL_LENGTH = 2048


PostText = StorableText
LinkUrl = Annotated[AnyHttpUrl, AfterValidator(url_at_most(MAX_LINK_URL_LENGTH))]


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
        default=None,
        description=(
            "Uploads from `POST /api/v1/media`: the author's own, `ready`, not yet attached, "
            "and of the post's type (image: 1–4 images; video: one video; text and link: none)"
        ),
    )
    visibility: Visibility = Visibility.PUBLIC


class ContentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: PostText | None = None
    link_url: LinkUrl | None = None
    visibility: Visibility | None = None


class ContentBody(BaseModel):
    text: str
    media_urls: list[str] = Field(description="The main URL of each attachment, in order")
    hashtags: list[str]
    mentions: list[uuid.UUID]
    link_url: str | None = None
    media: list[MediaAttachment] = Field(
        default_factory=list, description="The attachments with their variants and metadata"
    )


class EngagementCounts(BaseModel):
    likes_count: int
    comments_count: int
    shares_count: int
    views_count: int


class ViewerState(BaseModel):
    liked: bool = False
    shared: bool = False


class PostDocument(BaseModel):
    """A post as every reader sees it: what the post cache holds (no author, no viewer)."""

    id: uuid.UUID
    author_id: uuid.UUID
    content_type: ContentType
    visibility: Visibility
    content: ContentBody
    engagement: EngagementCounts
    created_at: datetime
    updated_at: datetime


class ContentOut(PostDocument):
    author: UserSummary
    viewer: ViewerState | None = Field(
        default=None, description="The caller's own state (absent for anonymous callers)"
    )


class ContentList(BaseModel):
    items: list[ContentOut]
    next_cursor: str | None


@dataclass(frozen=True)
class FeedScope:
    """Which posts a home feed shows: the viewer's own, and followed authors' shared ones."""

    viewer_id: uuid.UUID
    followed_ids: Sequence[uuid.UUID]
    hidden_author_ids: set[uuid.UUID]
    content_type: str | None = None
    include_own: bool = True
