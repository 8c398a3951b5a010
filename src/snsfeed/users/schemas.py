from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
)

from snsfeed.platform.validation import StorableText, url_at_most
from snsfeed.users.models import Role

Username = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=30, pattern=r"^[A-Za-z0-9_]+$"
    ),
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=256)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    id: uuid.UUID
    username: str
    role: Role
    session_id: uuid.UUID

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.MODERATOR, Role.ADMIN)


class RegisterRequest(StrictModel):
    username: Username = Field(description="3–30 characters of a–z, 0–9 and _; stored lower-case")
    email: EmailStr
    password: Password = Field(description="At least 8 characters")
    full_name: Annotated[StorableText, StringConstraints(max_length=255)] | None = None
    bio: Annotated[StorableText, StringConstraints(max_length=1000)] | None = None


class ProfileUpdate(StrictModel):
    full_name: Annotated[StorableText, StringConstraints(max_length=255)] | None = None
    bio: Annotated[StorableText, StringConstraints(max_length=1000)] | None = None
    profile_pic_url: Annotated[AnyHttpUrl, AfterValidator(url_at_most(500))] | None = None


class UserSummary(BaseModel):
    id: uuid.UUID
    username: str
    full_name: str | None = None
    profile_pic_url: str | None = None
    verified: bool = False


class ProfileCounts(BaseModel):
    followers_count: int = 0
    following_count: int = 0
    posts_count: int = 0


class RelationshipState(BaseModel):
    following: bool = False
    followed_by: bool = False
    blocking: bool = False
    muting: bool = False


class UserProfile(UserSummary):
    bio: str | None = None
    created_at: datetime
    updated_at: datetime
    counts: ProfileCounts
    relationship: RelationshipState | None = Field(
        default=None, description="The caller's relationship to this user (absent for anonymous)"
    )


class MyProfile(UserProfile):
    email: str
    role: Role


class SessionInfo(BaseModel):
    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str | None
    ip_address: str | None
    current: bool


class SessionList(BaseModel):
    items: list[SessionInfo]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page")


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    refresh_token: str
    scope: str | None = None


class RoleUpdate(StrictModel):
    role: Role


class AdminUser(BaseModel):
    id: uuid.UUID
    username: str
    email: str
    role: Role
    created_at: datetime
    deleted_at: datetime | None


class AdminUserList(BaseModel):
    items: list[AdminUser]
    next_cursor: str | None
