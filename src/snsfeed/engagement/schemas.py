from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from snsfeed.users.schemas import UserSummary


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="Comment text (non-empty)")
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
