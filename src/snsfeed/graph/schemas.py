from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from snsfeed.users.schemas import UserSummary


class RelationshipResult(BaseModel):
    following: bool
    followed_by: bool
    blocking: bool
    muting: bool


class UserListItem(BaseModel):
    user: UserSummary
    since: datetime


class UserList(BaseModel):
    items: list[UserListItem]
    next_cursor: str | None
