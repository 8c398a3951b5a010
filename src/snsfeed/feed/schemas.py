from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, Field

from snsfeed.content.schemas import ContentOut
from snsfeed.users.schemas import UserSummary


class FeedFilter(enum.StrEnum):
    ALL = "all"
    FOLLOWING = "following"
    TEXT = "text"
    LINK = "link"
    IMAGE = "image"
    VIDEO = "video"


class FeedItem(ContentOut):
    shared_by: UserSummary | None = Field(
        default=None, description="Set when this entry is a repost: who shared the post"
    )
    shared_at: datetime | None = Field(default=None, description="When it was shared")


class FeedPage(BaseModel):
    items: list[FeedItem]
    page: int = Field(description="1-based page number (1 when `cursor` is used)")
    total: int = Field(description="Number of posts in the whole feed (reposts not counted)")
    has_more: bool
    next_cursor: str | None = Field(description="Pass as `cursor` for the next, stable page")


class FeedRefresh(BaseModel):
    new_items: list[FeedItem] = Field(description="Posts newer than X-Last-Seen-Id, newest first")
    count: int = Field(description="How many newer posts exist (may exceed len(new_items))")
    next_cursor: str | None = Field(
        default=None, description="Continue below the oldest returned item with GET /api/v1/feed"
    )
