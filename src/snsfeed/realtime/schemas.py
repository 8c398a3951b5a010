"""Messages of the ``/ws/feed`` protocol.

Client → server (JSON text frames): ``subscribe`` / ``unsubscribe`` a channel, ``ping``,
``catch_up`` from a last seen post, ``auth`` with a fresh access token. Server → client:
``welcome``, ``subscribed``, ``unsubscribed``, ``pong``, ``heartbeat``, ``new_content``,
``content_deleted``, ``notification``, ``catch_up``, ``authenticated``, ``resync``,
``error``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from snsfeed.content.models import ContentType, Visibility
from snsfeed.platform.pagination import MAX_PAGE_SIZE
from snsfeed.users.schemas import UserSummary

Channel = Literal["feed_updates", "notifications"]

PREVIEW_CHARS = 280


class _ClientMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Subscribe(_ClientMessage):
    type: Literal["subscribe"]
    channel: Channel


class Unsubscribe(_ClientMessage):
    type: Literal["unsubscribe"]
    channel: Channel


class Ping(_ClientMessage):
    type: Literal["ping"]


class CatchUp(_ClientMessage):
    """What did I miss? Answered like ``GET /api/v1/feed/refresh``."""

    type: Literal["catch_up"]
    last_seen_id: str = Field(description="Id of the newest post the client has")
    size: int = Field(default=MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


class Auth(_ClientMessage):
    """A fresh access token for the same account, extending the stream past the old one."""

    type: Literal["auth"]
    access_token: str = Field(min_length=1, max_length=4096)


ClientMessage = Annotated[
    Subscribe | Unsubscribe | Ping | CatchUp | Auth, Field(discriminator="type")
]
client_message = TypeAdapter[Subscribe | Unsubscribe | Ping | CatchUp | Auth](ClientMessage)


class ContentPreview(BaseModel):
    """Enough of a post to show it at once; the full post is ``GET /api/v1/content/{id}``."""

    author: UserSummary
    content_type: ContentType
    visibility: Visibility
    text: str = Field(description=f"The text, cut to {PREVIEW_CHARS} characters")
    truncated: bool
    hashtags: list[str]
    link_url: str | None
    created_at: datetime
    shared_by: UserSummary | None = Field(default=None, description="Set for a repost")
    shared_at: datetime | None = None


class NewContent(BaseModel):
    content_id: uuid.UUID
    preview: ContentPreview
