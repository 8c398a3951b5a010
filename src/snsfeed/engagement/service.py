"""Likes, comments and shares. Counters move in the same transaction as the row they count."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.config import Settings
from snsfeed.content import service as content
from snsfeed.content.models import Post, Visibility
from snsfeed.content.schemas import ViewerState
from snsfeed.engagement.models import Comment, Share
from snsfeed.engagement.repository import EngagementRepository
from snsfeed.engagement.schemas import CommentCreate
from snsfeed.graph import service as graph
from snsfeed.platform import cache
from snsfeed.platform.errors import Forbidden, NotFound, Unprocessable
from snsfeed.platform.events import emit, on_event
from snsfeed.platform.ids import text_of
from snsfeed.platform.outbox import OutboxEvent
from snsfeed.platform.time import utcnow
from snsfeed.users.schemas import Principal


async def like(session: AsyncSession, actor: Principal, post_id: uuid.UUID) -> Post:
    post = await content.get_visible(session, actor.id, post_id)
    if await EngagementRepository(session).add_like(actor.id, post.id):
        await content.adjust_counter(session, post.id, "likes_count", +1)
        _forget_engaged(session, actor.id)
        await emit(
            session,
            "engagement.liked",
            actor_id=actor.id,
            key=post.id,
            payload={
                "content_id": str(post.id),
                "author_id": str(post.author_id),
                "user_id": str(actor.id),
            },
        )
    await session.refresh(post)
    return post


async def unlike(session: AsyncSession, actor: Principal, post_id: uuid.UUID) -> None:
    post = await content.get_visible(session, actor.id, post_id)
    if await EngagementRepository(session).remove_like(actor.id, post.id):
        await content.adjust_counter(session, post.id, "likes_count", -1)
        _forget_engaged(session, actor.id)
        await emit(
            session,
            "engagement.unliked",
            actor_id=actor.id,
            key=post.id,
            payload={
                "content_id": str(post.id),
                "author_id": str(post.author_id),
                "user_id": str(actor.id),
            },
        )


async def share(session: AsyncSession, actor: Principal, post_id: uuid.UUID) -> tuple[Post, bool]:
    """Repost; returns the post and whether this call created the share."""
    post = await content.get_visible(session, actor.id, post_id)
    if post.visibility != Visibility.PUBLIC:
        raise Forbidden("Only public posts can be shared", code="not_shareable")
    created = await EngagementRepository(session).add_share(actor.id, post.id)
    if created:
        await content.adjust_counter(session, post.id, "shares_count", +1)
        _forget_engaged(session, actor.id)
        await emit(
            session,
            "engagement.shared",
            actor_id=actor.id,
            key=post.id,
            payload={
                "content_id": str(post.id),
                "author_id": str(post.author_id),
                "user_id": str(actor.id),
            },
        )
    await session.refresh(post)
    return post, created


async def unshare(session: AsyncSession, actor: Principal, post_id: uuid.UUID) -> None:
    post = await content.get_visible(session, actor.id, post_id)
    if await EngagementRepository(session).remove_share(actor.id, post.id):
        await content.adjust_counter(session, post.id, "shares_count", -1)
        _forget_engaged(session, actor.id)
        await emit(
            session,
            "engagement.unshared",
            actor_id=actor.id,
            key=post.id,
            payload={
                "content_id": str(post.id),
                "author_id": str(post.author_id),
                "user_id": str(actor.id),
            },
        )


async def add_comment(
    session: AsyncSession,
    settings: Settings,
    actor: Principal,
    post_id: uuid.UUID,
    data: CommentCreate,
) -> Comment:
    post = await content.get_visible(session, actor.id, post_id)
    text = data.text
    if not text.strip():
        raise Unprocessable("Comment text must not be empty", code="text_required")
    if len(text) > settings.max_comment_length:
        raise Unprocessable(
            f"Comment is longer than {settings.max_comment_length} characters",
            code="text_too_long",
            details={"max_length": settings.max_comment_length, "length": len(text)},
        )
    repo = EngagementRepository(session)
    parent: Comment | None = None
    if data.parent_comment_id is not None:
        parent = await repo.get_comment(data.parent_comment_id)
        if parent is None or parent.content_id != post.id:
            raise NotFound("Parent comment not found on this post", code="parent_not_found")
        if await graph.is_blocked_between(session, actor.id, parent.user_id):
            raise NotFound("Parent comment not found on this post", code="parent_not_found")
    now = utcnow()
    comment = Comment(
        content_id=post.id,
        user_id=actor.id,
        parent_comment_id=parent.id if parent else None,
        text=text,
        created_at=now,
        updated_at=now,
    )
    repo.add_comment(comment)
    await session.flush()
    await content.adjust_counter(session, post.id, "comments_count", +1)
    await emit(
        session,
        "engagement.commented",
        actor_id=actor.id,
        key=post.id,
        payload={
            "content_id": str(post.id),
            "author_id": str(post.author_id),
            "comment_id": str(comment.id),
            "user_id": str(actor.id),
            "parent_comment_id": str(parent.id) if parent else None,
            "parent_author_id": str(parent.user_id) if parent else None,
        },
    )
    return comment


async def list_comments(
    session: AsyncSession,
    viewer_id: uuid.UUID | None,
    post_id: uuid.UUID,
    parent_id: uuid.UUID | None,
    after: uuid.UUID | None,
    limit: int,
) -> tuple[Sequence[Comment], dict[uuid.UUID, int]]:
    post = await content.get_visible(session, viewer_id, post_id)
    hidden = await graph.blocked_either_way(session, viewer_id) if viewer_id else set()
    repo = EngagementRepository(session)
    rows = await repo.comments_page(post.id, parent_id, after, limit, hidden)
    replies = await repo.reply_counts([c.id for c in rows], hidden)
    return rows, replies


async def delete_comment(session: AsyncSession, actor: Principal, comment_id: uuid.UUID) -> None:
    repo = EngagementRepository(session)
    comment = await repo.get_comment(comment_id)
    if comment is None:
        raise NotFound("Comment not found")
    post = await content.get_visible(session, actor.id, comment.content_id)
    # The commenter, the post's author (moderating their thread) and staff may remove it.
    if actor.id not in (comment.user_id, post.author_id) and not actor.is_staff:
        raise Forbidden("You cannot delete this comment")
    if not await repo.soft_delete_comment(comment.id, utcnow()):
        # A concurrent delete won the race; answer as a sequential second delete would.
        raise NotFound("Comment not found")
    await content.adjust_counter(session, post.id, "comments_count", -1)
    await emit(
        session,
        "engagement.comment_deleted",
        actor_id=actor.id,
        key=post.id,
        payload={"content_id": str(post.id), "comment_id": str(comment.id)},
    )


def engaged_key(user_id: uuid.UUID | str) -> str:
    return f"c:engaged:{user_id}"


# How many posts' states a viewer's cached document remembers (the pages they read).
_ENGAGED_REMEMBERED = 1000
_LIKED, _SHARED = 1, 2


def _forget_engaged(session: AsyncSession, user_id: uuid.UUID) -> None:
    cache.invalidate_after_commit(session, engaged_key(user_id))


async def viewer_flags(
    session: AsyncSession, viewer_id: uuid.UUID, post_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, tuple[bool, bool]]:
    """(liked, shared) by the viewer for each post.

    The near cache keeps, per viewer, the states of the posts they were recently shown
    (their own likes and shares invalidate it); SQL answers only for posts not in it.
    """
    ids = list(post_ids)
    if not ids:
        return {}
    near = cache.current()
    key = engaged_key(viewer_id)
    epoch = near.epoch
    known: dict[str, int] = near.get_local(key) or (await near.get_many([key])).get(key) or {}
    texts = [text_of(p) for p in ids]
    missing = [p for p, t in zip(ids, texts, strict=True) if t not in known]
    if missing:
        liked, shared = await EngagementRepository(session).states_among(viewer_id, missing)
        merged = dict(known)
        for pid in missing:
            merged[text_of(pid)] = (_LIKED if pid in liked else 0) | (
                _SHARED if pid in shared else 0
            )
        if len(merged) > _ENGAGED_REMEMBERED:
            merged = dict(list(merged.items())[-_ENGAGED_REMEMBERED:])
        await near.put_many({key: merged}, since_epoch=epoch, replace=True)
        known = merged
    return {
        pid: (bool(known[t] & _LIKED), bool(known[t] & _SHARED))
        for pid, t in zip(ids, texts, strict=True)
    }


async def viewer_state(
    session: AsyncSession, viewer_id: uuid.UUID, post_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, ViewerState]:
    flags = await viewer_flags(session, viewer_id, post_ids)
    return {pid: ViewerState(liked=liked, shared=shared) for pid, (liked, shared) in flags.items()}


@on_event("user.deleted")
async def _withdraw_deleted_accounts_engagement(session: AsyncSession, event: OutboxEvent) -> None:
    """A deleted account's likes, shares and comments stop counting and stop showing."""
    user_id = uuid.UUID(event.payload["user_id"])
    repo = EngagementRepository(session)
    for post_id in await repo.delete_likes_by_user(user_id):
        await content.adjust_counter(session, post_id, "likes_count", -1)
    for post_id in await repo.delete_shares_by_user(user_id):
        await content.adjust_counter(session, post_id, "shares_count", -1)
    for post_id, n in (await repo.soft_delete_comments_by_user(user_id, utcnow())).items():
        await content.adjust_counter(session, post_id, "comments_count", -n)


async def shares_by_users(
    session: AsyncSession,
    user_ids: Sequence[uuid.UUID],
    *,
    before: datetime | None = None,
    after: datetime | None = None,
    limit: int,
) -> Sequence[Share]:
    return await EngagementRepository(session).shares_by_users(
        user_ids, before=before, after=after, limit=limit
    )


async def has_liked(session: AsyncSession, user_id: uuid.UUID, post_id: uuid.UUID) -> bool:
    """From SQL, not the viewer-state cache: for consumers deciding whether a like stands."""
    liked, _ = await EngagementRepository(session).states_among(user_id, [post_id])
    return post_id in liked


async def has_shared(session: AsyncSession, user_id: uuid.UUID, post_id: uuid.UUID) -> bool:
    return post_id in await EngagementRepository(session).shared_among(user_id, [post_id])


async def live_comment_ids(session: AsyncSession, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """The comments among ``ids`` that are not deleted (notifications hide the others)."""
    return await EngagementRepository(session).live_comment_ids(ids)
