from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AliasChoices, AnyHttpUrl, BaseModel, ConfigDict, Field

from snsfeed.content.models import ContentType, Visibility
from snsfeed.users.schemas import UserSummary


class ContentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    content_type: ContentType = Field(
        default=ContentType.TEXT,
        validation_alias=AliasChoices("content_type", "type"),
        description="text | image | video | link (`type` is accepted as in the spec)",
    )
    text: str = Field(
        default="", description="Post text; hashtags and @mentions are parsed from it"
    )
    link_url: AnyHttpUrl | None = Field(default=None, description="Required for link posts")
    media_ids: list[uuid.UUID] | None = Field(
        default=None, description="Not accepted yet: media uploads arrive with the media service"
    )
    visibility: Visibility = Visibility.PUBLIC


class ContentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    link_url: AnyHttpUrl | None = None
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
