"""Notification use cases: creating and withdrawing them, the grouped list, settings, devices."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.config import Settings
from snsfeed.content import service as content
from snsfeed.engagement import service as engagement
from snsfeed.graph import service as graph
from snsfeed.notifications.models import (
    Channel,
    DeliveryStatus,
    Notification,
    NotificationType,
    PushKind,
    PushSubscription,
)
from snsfeed.notifications.repository import NotificationRepository
from snsfeed.notifications.schemas import (
    ChannelSettings,
    ContentRef,
    FcmSubscriptionIn,
    NotificationGroup,
    NotificationSettings,
    NotificationSettingsPatch,
    WebPushSubscriptionIn,
)
from snsfeed.platform.errors import Conflict, NotFound, Unprocessable
from snsfeed.platform.ids import new_id
from snsfeed.platform.time import utcnow
from snsfeed.users import service as users

# Likes, shares and follows pile up ("A and 3 others liked your post"); a comment, reply or
# mention is a message of its own and stays one entry, as in Mastodon.
GROUPED = frozenset({NotificationType.LIKE, NotificationType.SHARE, NotificationType.FOLLOW})
SAMPLE_ACTORS = 3
PREVIEW_CHARS = 80

# Everything in-app and on push; e-mail only for what is addressed to the person
# (follows, comments, replies, mentions), not for every like or share.
DEFAULTS: dict[NotificationType, dict[Channel, bool]] = {
    t: {
        Channel.IN_APP: True,
        Channel.PUSH: True,
        Channel.EMAIL: t not in (NotificationType.LIKE, NotificationType.SHARE),
    }
    for t in NotificationType
}


@dataclass(frozen=True)
class Candidate:
    """A notification a consumer wants to create, before the rules are applied."""

    recipient: uuid.UUID
    actor: uuid.UUID
    type: NotificationType
    dedupe_key: str
    event_id: uuid.UUID
    occurred_at: datetime
    content_id: uuid.UUID | None = None
    comment_id: uuid.UUID | None = None


def group_key(settings: Settings, c: Candidate, notification_id: uuid.UUID) -> str:
    if c.type not in GROUPED:
        return f"{c.type.value}:{notification_id}"
    bucket = int(c.occurred_at.timestamp()) // settings.notify_group_window_seconds
    target = c.content_id or "me"
    return f"{c.type.value}:{target}:{bucket}"


# --- settings -------------------------------------------------------------------------------


async def channel_settings(
    session: AsyncSession, user_id: uuid.UUID
) -> dict[NotificationType, dict[Channel, bool]]:
    chosen = await NotificationRepository(session).settings_of(user_id)
    return {
        t: {c: chosen.get((t.value, c.value), DEFAULTS[t][c]) for c in Channel}
        for t in NotificationType
    }


def _as_schema(matrix: dict[NotificationType, dict[Channel, bool]]) -> NotificationSettings:
    return NotificationSettings(
        **{
            t.value: ChannelSettings(**{c.value: on for c, on in channels.items()})
            for t, channels in matrix.items()
        }
    )


async def get_settings(session: AsyncSession, user_id: uuid.UUID) -> NotificationSettings:
    return _as_schema(await channel_settings(session, user_id))


async def update_settings(
    session: AsyncSession, user_id: uuid.UUID, patch: NotificationSettingsPatch
) -> NotificationSettings:
    repo = NotificationRepository(session)
    now = utcnow()
    for type_, channel, enabled in patch.changes():
        await repo.set_setting(user_id, type_.value, channel.value, enabled, now)
    await session.flush()
    return await get_settings(session, user_id)


# --- creating and withdrawing ---------------------------------------------------------------


async def _hidden_from(session: AsyncSession, recipient: uuid.UUID, actor: uuid.UUID) -> bool:
    """A block either way, or the recipient muting the actor, silences the actor."""
    if await graph.is_blocked_between(session, recipient, actor):
        return True
    return (await graph.relationship(session, recipient, actor)).muting


def push_configured(settings: Settings, kind: PushKind) -> bool:
    if kind == PushKind.WEBPUSH:
        return settings.resolved_vapid_key_file is not None
    return bool(settings.fcm_endpoint)


async def notify(session: AsyncSession, settings: Settings, c: Candidate) -> Notification | None:
    """Create the notification and its deliveries; None when nothing is to be shown.

    Returns the notification only when it is new and listed in-app (what the real-time
    stream announces). A candidate already recorded (same recipient and dedupe key, e.g. a
    redelivered event) creates nothing: that is what makes the consumer idempotent.
    """
    if c.recipient == c.actor:
        return None
    if len(await users.active_ids(session, [c.recipient, c.actor])) != 2:
        return None
    if await _hidden_from(session, c.recipient, c.actor):
        return None
    channels = (await channel_settings(session, c.recipient))[c.type]
    email = channels[Channel.EMAIL] and bool(settings.smtp_host)
    if not (channels[Channel.IN_APP] or channels[Channel.PUSH] or email):
        return None
    repo = NotificationRepository(session)
    now = utcnow()
    notification = Notification(
        id=new_id(),
        recipient_id=c.recipient,
        type=c.type.value,
        actor_id=c.actor,
        content_id=c.content_id,
        comment_id=c.comment_id,
        dedupe_key=c.dedupe_key,
        event_id=c.event_id,
        in_app=channels[Channel.IN_APP],
        created_at=now,
        read_at=None,
    )
    notification.group_key = group_key(settings, c, notification.id)
    values = {col: getattr(notification, col) for col in _COLUMNS}
    if not await repo.insert(values):
        return None
    if channels[Channel.PUSH]:
        for sub in await repo.subscriptions_of(c.recipient):
            if push_configured(settings, PushKind(sub.kind)):
                await repo.add_delivery(_delivery(notification, Channel.PUSH, str(sub.id), now))
    if email:
        due = now + timedelta(seconds=settings.notify_email_delay_seconds)
        await repo.add_delivery(_delivery(notification, Channel.EMAIL, "email", due))
    return notification if notification.in_app else None


_COLUMNS = (
    "id",
    "recipient_id",
    "type",
    "actor_id",
    "content_id",
    "comment_id",
    "dedupe_key",
    "group_key",
    "event_id",
    "in_app",
    "created_at",
    "read_at",
)


def _delivery(n: Notification, channel: Channel, target: str, due: datetime) -> dict[str, object]:
    return {
        "id": new_id(),
        "notification_id": n.id,
        "recipient_id": n.recipient_id,
        "channel": channel.value,
        "target": target,
        "status": DeliveryStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": due,
        "created_at": n.created_at,
    }


async def withdraw(session: AsyncSession, recipient: uuid.UUID, dedupe_key: str) -> None:
    """The fact behind a notification was undone (unlike, unshare, unfollow)."""
    await NotificationRepository(session).delete_by_dedupe(recipient, dedupe_key)


async def withdraw_content(session: AsyncSession, content_id: uuid.UUID) -> None:
    await NotificationRepository(session).delete_for_content(content_id)


async def withdraw_comment(session: AsyncSession, comment_id: uuid.UUID) -> None:
    await NotificationRepository(session).delete_for_comment(comment_id)


async def withdraw_between(session: AsyncSession, a: uuid.UUID, b: uuid.UUID) -> None:
    await NotificationRepository(session).delete_between(a, b)


async def forget_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    await NotificationRepository(session).forget_user(user_id)


# --- reading --------------------------------------------------------------------------------


def preview(text: str) -> str:
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


async def _visible_posts(
    session: AsyncSession, viewer: uuid.UUID, ids: set[uuid.UUID]
) -> dict[uuid.UUID, ContentRef]:
    """Posts still there and visible to the viewer (deleted posts leave no dangling entry)."""
    posts = await content.get_many(session, ids)
    visible = {}
    for pid, post in posts.items():
        if post.author_id == viewer or await content.can_view(session, viewer, post):
            visible[pid] = ContentRef(id=pid, preview=preview(post.text))
    return visible


async def list_groups(
    session: AsyncSession,
    recipient: uuid.UUID,
    types: Sequence[NotificationType] | None,
    before: uuid.UUID | None,
    limit: int,
) -> tuple[list[NotificationGroup], uuid.UUID | None]:
    """A page of groups newest first, and the cursor of the next page (or None).

    Entries about posts or comments deleted since, or from accounts now blocked, muted or
    deleted, are left out even before the consumer has withdrawn them.
    """
    repo = NotificationRepository(session)
    _, hidden = await graph.reader_facts(session, recipient)
    type_values = [t.value for t in types] if types else None
    rows = await repo.group_page(recipient, hidden, type_values, before, limit)
    next_before = rows[-1].latest.id if len(rows) == limit else None
    posts = await _visible_posts(
        session, recipient, {r.latest.content_id for r in rows if r.latest.content_id}
    )
    comments = await engagement.live_comment_ids(
        session, [r.latest.comment_id for r in rows if r.latest.comment_id]
    )
    samples = await repo.sample_actors(
        recipient, [r.latest.group_key for r in rows], hidden, SAMPLE_ACTORS
    )
    people = await users.summaries(session, {a for ids in samples.values() for a in ids})
    groups = []
    for row in rows:
        n = row.latest
        if n.content_id is not None and n.content_id not in posts:
            continue
        if n.comment_id is not None and n.comment_id not in comments:
            continue
        actors = [people[a] for a in samples.get(n.group_key, []) if a in people]
        if not actors:
            continue
        groups.append(
            NotificationGroup(
                id=n.id,
                group_key=n.group_key,
                type=NotificationType(n.type),
                count=row.count,
                unread=row.unread > 0,
                actors=actors,
                content=posts.get(n.content_id) if n.content_id else None,
                comment_id=n.comment_id,
                latest_at=n.created_at,
            )
        )
    return groups, next_before


async def unread_count(session: AsyncSession, recipient: uuid.UUID) -> int:
    _, hidden = await graph.reader_facts(session, recipient)
    return await NotificationRepository(session).unread_count(recipient, hidden)


async def mark_read(
    session: AsyncSession, recipient: uuid.UUID, notification_id: uuid.UUID
) -> None:
    """Mark the notification's whole group read: the list shows the group as one entry."""
    repo = NotificationRepository(session)
    n = await repo.get_for(recipient, notification_id)
    if n is None:
        raise NotFound("Notification not found")
    await repo.mark_group_read(recipient, n.group_key, utcnow())


async def mark_all_read(session: AsyncSession, recipient: uuid.UUID) -> None:
    await NotificationRepository(session).mark_all_read(recipient, utcnow())


# --- push subscriptions ---------------------------------------------------------------------


async def register_subscription(
    session: AsyncSession,
    settings: Settings,
    user_id: uuid.UUID,
    data: WebPushSubscriptionIn | FcmSubscriptionIn,
) -> tuple[PushSubscription, bool]:
    """Register a device; (subscription, created). Registering again updates it."""
    kind = PushKind(data.kind)
    if not push_configured(settings, kind):
        raise Conflict(
            f"{kind.value} push is not configured on this server", code="push_not_configured"
        )
    if isinstance(data, WebPushSubscriptionIn):
        endpoint = str(data.endpoint)
        if urlsplit(endpoint).scheme != "https" and not settings.push_allow_insecure_endpoints:
            raise Unprocessable("A push endpoint must be an https URL", code="insecure_endpoint")
        p256dh, auth = data.keys.p256dh, data.keys.auth
    else:
        endpoint, p256dh, auth = data.token, None, None
    repo = NotificationRepository(session)
    existing = await repo.subscription_by_endpoint(endpoint)
    if existing is not None:
        # The same browser or device, perhaps now signed in as someone else: it follows
        # the account that registered it last.
        existing.user_id, existing.kind = user_id, kind.value
        existing.p256dh, existing.auth = p256dh, auth
        await session.flush()
        return existing, False
    sub = PushSubscription(
        user_id=user_id,
        kind=kind.value,
        endpoint=endpoint,
        p256dh=p256dh,
        auth=auth,
        created_at=utcnow(),
    )
    repo.add_subscription(sub)
    await session.flush()
    return sub, True


async def subscriptions(session: AsyncSession, user_id: uuid.UUID) -> Sequence[PushSubscription]:
    return await NotificationRepository(session).subscriptions_of(user_id)


async def remove_subscription(
    session: AsyncSession, user_id: uuid.UUID, subscription_id: uuid.UUID
) -> None:
    if not await NotificationRepository(session).delete_subscription(user_id, subscription_id):
        raise NotFound("Push subscription not found")
