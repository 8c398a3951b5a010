from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from snsfeed.content.schemas import PostText
from snsfeed.users.schemas import UserSummary


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Same storable-text rule as posts: no U+0000 or lone surrogates (a 422, not a 500).
    text: PostText = Field(description="Comment text (non-empty)")
    parent_comment_id: uuid.UUID | None = Field(
        default=None, description="Reply to this comment (same post)"
    )


class CommentOut(BaseModel):
    id: uuid.UUID
    content_id: uuid.UUID
    parent_comment_id: uuid.UUID | None
    author: UserSummary
    text: str
    replies_count: int = 0
    created_at: datetime
    updated_at: datetime


class CommentList(BaseModel):
    items: list[CommentOut]
    next_cursor: str | None


class LikeResult(BaseModel):
    content_id: uuid.UUID
    liked: bool
    likes_count: int


class ShareResult(BaseModel):
    content_id: uuid.UUID
    shared: bool
    shares_count: int
