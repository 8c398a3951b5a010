from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints

from snsfeed.notifications.models import Channel, NotificationType
from snsfeed.platform.validation import url_at_most
from snsfeed.users.schemas import UserSummary


class ContentRef(BaseModel):
    id: uuid.UUID
    preview: str = Field(description="The start of the post's text")


class NotificationGroup(BaseModel):
    """Notifications of one kind about one target in one time window, shown as one entry."""

    id: uuid.UUID = Field(description="The newest notification of the group (mark it read)")
    group_key: str
    type: NotificationType
    count: int = Field(description='Notifications in the group ("A and 3 others": 4)')
    unread: bool
    actors: list[UserSummary] = Field(description="The most recent actors, newest first")
    content: ContentRef | None = None
    comment_id: uuid.UUID | None = None
    latest_at: datetime


class NotificationList(BaseModel):
    items: list[NotificationGroup]
    next_cursor: str | None


class UnreadCount(BaseModel):
    unread: int


class ChannelSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    in_app: bool
    push: bool
    email: bool


class ChannelSettingsPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    in_app: bool | None = None
    push: bool | None = None
    email: bool | None = None


class NotificationSettings(BaseModel):
    """Which channels carry each notification type."""

    follow: ChannelSettings
    like: ChannelSettings
    comment: ChannelSettings
    reply: ChannelSettings
    mention: ChannelSettings
    share: ChannelSettings


class NotificationSettingsPatch(BaseModel):
    """Only the given types and channels change."""

    model_config = ConfigDict(extra="forbid")

    follow: ChannelSettingsPatch | None = None
    like: ChannelSettingsPatch | None = None
    comment: ChannelSettingsPatch | None = None
    reply: ChannelSettingsPatch | None = None
    mention: ChannelSettingsPatch | None = None
    share: ChannelSettingsPatch | None = None

    def changes(self) -> list[tuple[NotificationType, Channel, bool]]:
        out = []
        for type_ in NotificationType:
            patch: ChannelSettingsPatch | None = getattr(self, type_.value)
            if patch is None:
                continue
            for channel in Channel:
                value = getattr(patch, channel.value)
                if value is not None:
                    out.append((type_, channel, bool(value)))
        return out


def _b64url_bytes(length: int) -> AfterValidator:
    def check(value: str) -> str:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (ValueError, binascii.Error) as exc:
            raise ValueError("must be base64url") from exc
        if len(raw) != length:
            raise ValueError(f"must decode to {length} bytes")
        return value

    return AfterValidator(check)


B64 = StringConstraints(max_length=128, pattern=r"^[A-Za-z0-9_\-]+=*$")


class WebPushKeys(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # An uncompressed P-256 point and a 16-byte secret (RFC 8291).
    p256dh: Annotated[str, B64, _b64url_bytes(65)]
    auth: Annotated[str, B64, _b64url_bytes(16)]


class WebPushSubscriptionIn(BaseModel):
    """A browser's PushSubscription, as `PushSubscription.toJSON()` gives it."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["webpush"]
    endpoint: Annotated[AnyHttpUrl, AfterValidator(url_at_most(1024))]
    keys: WebPushKeys


class FcmSubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["fcm"]
    token: Annotated[str, StringConstraints(min_length=8, max_length=1024, pattern=r"^[!-~]+$")]


PushSubscriptionIn = Annotated[
    WebPushSubscriptionIn | FcmSubscriptionIn, Field(discriminator="kind")
]


class PushSubscriptionOut(BaseModel):
    id: uuid.UUID
    kind: Literal["webpush", "fcm"]
    endpoint: str = Field(description="The Web Push URL, or the FCM registration token")
    created_at: datetime


class PushSubscriptionList(BaseModel):
    items: list[PushSubscriptionOut]


class VapidPublicKey(BaseModel):
    public_key: str = Field(description="applicationServerKey for PushManager.subscribe")
