"""The ``notifications`` consumer group, and the ``notification-delivery`` loop.

Handlers decide from the current SQL state, not from the event alone (is the like still
there, is the follow still on), and every notification carries a dedupe key unique per
recipient: a redelivered, late or reordered event never creates a second notification,
and so never a second push or e-mail either (deliveries are created with the notification).
Undoing an action (unlike, unshare, unfollow, deleting a comment or a post, a block)
withdraws its notification together with its pending deliveries.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.content import service as content
from snsfeed.engagement import service as engagement
from snsfeed.graph import service as graph
from snsfeed.notifications import service
from snsfeed.notifications.delivery import run_dispatcher
from snsfeed.notifications.models import Notification, NotificationType
from snsfeed.notifications.service import Candidate
from snsfeed.platform.bus.consumer import (
    ConsumerContext,
    ConsumerSpec,
    loop_spec,
    register_consumer,
)
from snsfeed.platform.bus.envelope import Event
from snsfeed.realtime import publisher
from snsfeed.users import service as users

log = structlog.get_logger("snsfeed.notifications")


def _uuid(event: Event, field: str) -> uuid.UUID:
    return uuid.UUID(event.payload[field])


async def _create(session: AsyncSession, ctx: ConsumerContext, c: Candidate) -> None:
    created = await service.notify(session, ctx.settings, c)
    if created is not None:
        await _announce(session, ctx, created)


async def _announce(session: AsyncSession, ctx: ConsumerContext, n: Notification) -> None:
    """Real-time copy on the user's streams, once the row is written (at least once).

    It goes out before the consumer's transaction commits; if that commit fails the event
    is handled again and the message repeats, with a new id. The list is the truth.
    """
    actor = (await users.summaries(session, [n.actor_id])).get(n.actor_id)
    message = {
        "type": "notification",
        "data": {
            "id": str(n.id),
            "type": n.type,
            "group_key": n.group_key,
            "actor": actor.model_dump(mode="json") if actor else None,
            "content_id": str(n.content_id) if n.content_id else None,
            "comment_id": str(n.comment_id) if n.comment_id else None,
            "created_at": n.created_at.isoformat(),
        },
    }
    try:
        await publisher.publish(ctx.redis, n.recipient_id, message)
    except Exception as exc:  # Redis down: the notification is listed all the same
        log.warning("notification_publish_failed", error=repr(exc))


def _candidate(
    event: Event,
    *,
    recipient: uuid.UUID,
    actor: uuid.UUID,
    type: NotificationType,
    dedupe_key: str,
    content_id: uuid.UUID | None = None,
    comment_id: uuid.UUID | None = None,
) -> Candidate:
    return Candidate(
        recipient=recipient,
        actor=actor,
        type=type,
        dedupe_key=dedupe_key,
        event_id=event.id,
        occurred_at=event.occurred_at,
        content_id=content_id,
        comment_id=comment_id,
    )


async def on_followed(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    follower, followee = _uuid(event, "follower_id"), _uuid(event, "followee_id")
    if not await graph.is_following(session, follower, followee):
        return  # undone since
    await _create(
        session,
        ctx,
        _candidate(
            event,
            recipient=followee,
            actor=follower,
            type=NotificationType.FOLLOW,
            dedupe_key=f"follow:{follower}",
        ),
    )


async def on_unfollowed(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    follower, followee = _uuid(event, "follower_id"), _uuid(event, "followee_id")
    if not await graph.is_following(session, follower, followee):
        await service.withdraw(session, followee, f"follow:{follower}")


async def _engaged(
    session: AsyncSession,
    event: Event,
    ctx: ConsumerContext,
    kind: NotificationType,
    stands: Callable[[AsyncSession, uuid.UUID, uuid.UUID], Awaitable[bool]],
) -> None:
    """A like or share notifies the author, if it still stands (SQL decides, not the event)."""
    user, post = _uuid(event, "user_id"), _uuid(event, "content_id")
    if not await stands(session, user, post):
        return
    await _create(
        session,
        ctx,
        _candidate(
            event,
            recipient=_uuid(event, "author_id"),
            actor=user,
            type=kind,
            dedupe_key=f"{kind.value}:{user}:{post}",
            content_id=post,
        ),
    )


async def _disengaged(
    session: AsyncSession,
    event: Event,
    kind: NotificationType,
    stands: Callable[[AsyncSession, uuid.UUID, uuid.UUID], Awaitable[bool]],
) -> None:
    """An unlike or unshare withdraws the notification, unless it was redone since."""
    user, post = _uuid(event, "user_id"), _uuid(event, "content_id")
    if not await stands(session, user, post):
        await service.withdraw(session, _uuid(event, "author_id"), f"{kind.value}:{user}:{post}")


async def on_liked(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    await _engaged(session, event, ctx, NotificationType.LIKE, engagement.has_liked)


async def on_unliked(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    await _disengaged(session, event, NotificationType.LIKE, engagement.has_liked)


async def on_shared(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    await _engaged(session, event, ctx, NotificationType.SHARE, engagement.has_shared)


async def on_unshared(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    await _disengaged(session, event, NotificationType.SHARE, engagement.has_shared)


async def on_commented(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    """A reply notifies the parent comment's author; the post's author gets a comment
    notification unless they are that same person (one notification, the more specific)."""
    comment = _uuid(event, "comment_id")
    if not await engagement.live_comment_ids(session, [comment]):
        return  # deleted since
    actor, post, author = (
        _uuid(event, "user_id"),
        _uuid(event, "content_id"),
        _uuid(event, "author_id"),
    )
    parent_author = event.payload.get("parent_author_id")
    replied_to = uuid.UUID(parent_author) if parent_author else None
    targets = [] if replied_to is None else [(replied_to, NotificationType.REPLY)]
    if author != replied_to:
        targets.append((author, NotificationType.COMMENT))
    for recipient, type_ in targets:
        await _create(
            session,
            ctx,
            _candidate(
                event,
                recipient=recipient,
                actor=actor,
                type=type_,
                dedupe_key=f"{type_.value}:{comment}",
                content_id=post,
                comment_id=comment,
            ),
        )


async def on_comment_deleted(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    await service.withdraw_comment(session, _uuid(event, "comment_id"))


async def on_content_written(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    """Mentions, on creation and on an edit that adds some (each person once per post)."""
    post_id, author = _uuid(event, "content_id"), _uuid(event, "author_id")
    mentioned = [uuid.UUID(m) for m in event.payload.get("mentions", [])]
    if not mentioned:
        return
    post = (await content.get_many(session, [post_id])).get(post_id)
    if post is None:
        return
    for person in dict.fromkeys(mentioned):
        # Only whoever may read the post hears about it: a followers-only post does not
        # notify a mentioned stranger.
        if person == author or not await content.can_view(session, person, post):
            continue
        await _create(
            session,
            ctx,
            _candidate(
                event,
                recipient=person,
                actor=author,
                type=NotificationType.MENTION,
                dedupe_key=f"mention:{post_id}",
                content_id=post_id,
            ),
        )


async def on_content_deleted(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    await service.withdraw_content(session, _uuid(event, "content_id"))


async def on_blocked(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    await service.withdraw_between(session, _uuid(event, "blocker_id"), _uuid(event, "blocked_id"))


async def on_user_deleted(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    await service.forget_user(session, _uuid(event, "user_id"))


HANDLERS = {
    "graph.followed": on_followed,
    "graph.unfollowed": on_unfollowed,
    "graph.blocked": on_blocked,
    "engagement.liked": on_liked,
    "engagement.unliked": on_unliked,
    "engagement.shared": on_shared,
    "engagement.unshared": on_unshared,
    "engagement.commented": on_commented,
    "engagement.comment_deleted": on_comment_deleted,
    "content.created": on_content_written,
    "content.updated": on_content_written,
    "content.deleted": on_content_deleted,
    "user.deleted": on_user_deleted,
}


async def handle(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    await HANDLERS[event.type](session, event, ctx)


NOTIFICATIONS = register_consumer(
    ConsumerSpec(
        name="notifications",
        handler=handle,
        event_types=frozenset(HANDLERS),
        description="In-app notifications (with their push and e-mail deliveries)",
    )
)

DELIVERY = register_consumer(
    loop_spec(
        "notification-delivery",
        run_dispatcher,
        description="Sends due push and e-mail deliveries, with retries",
    )
)
