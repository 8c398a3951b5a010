"""Post use cases and the visibility rule every read path goes through."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.config import Settings
from snsfeed.content.documents import Document, forget
from snsfeed.content.documents import document_key as _document_key
from snsfeed.content.documents import documents as _documents
from snsfeed.content.models import ContentType, Post, Visibility
from snsfeed.content.parsing import extract_hashtags, extract_mentions
from snsfeed.content.repository import ContentRepository
from snsfeed.content.schemas import ContentCreate, ContentUpdate, FeedScope
from snsfeed.graph import service as graph
from snsfeed.media import service as media
from snsfeed.platform.errors import Forbidden, NotFound, Unprocessable
from snsfeed.platform.events import emit, on_event
from snsfeed.platform.outbox import OutboxEvent
from snsfeed.platform.time import utcnow
from snsfeed.users import service as users
from snsfeed.users.schemas import Principal


def _validate_text(settings: Settings, text: str, content_type: ContentType) -> str:
    if len(text) > settings.max_text_length:
        raise Unprocessable(
            f"Text is longer than {settings.max_text_length} characters",
            code="text_too_long",
            details={"max_length": settings.max_text_length, "length": len(text)},
        )
    if content_type == ContentType.TEXT and not text.strip():
        raise Unprocessable("A text post needs non-empty text", code="text_required")
    return text


async def _mentions(session: AsyncSession, text: str) -> list[str]:
    names = extract_mentions(text)
    resolved = await users.resolve_usernames(session, names)
    # Keep the order of appearance; unknown names are plain text.
    return [str(resolved[n]) for n in names if n in resolved]


async def create(
    session: AsyncSession, settings: Settings, author: Principal, data: ContentCreate
) -> Post:
    if data.content_type == ContentType.LINK and data.link_url is None:
        raise Unprocessable("A link post needs link_url", code="link_url_required")
    text = _validate_text(settings, data.text, data.content_type)
    now = utcnow()
    post = Post(
        author_id=author.id,
        content_type=data.content_type.value,
        visibility=data.visibility.value,
        text=text,
        link_url=str(data.link_url) if data.link_url else None,
        media_urls=[],
        hashtags=extract_hashtags(text),
        mentions=await _mentions(session, text),
        created_at=now,
        updated_at=now,
    )
    repo = ContentRepository(session)
    repo.add(post)
    await session.flush()
    await repo.replace_hashtags(post.id, post.hashtags)
    await media.attach_to_post(
        session, settings, author.id, post.id, data.media_ids or [], post.content_type
    )
    await emit(
        session, "content.created", actor_id=author.id, key=post.id, payload=event_payload(post)
    )
    return post


def event_payload(post: Post) -> dict[str, object]:
    return {
        "content_id": str(post.id),
        "author_id": str(post.author_id),
        "content_type": post.content_type,
        "visibility": post.visibility,
        "hashtags": post.hashtags,
        "mentions": post.mentions,
        "created_at": post.created_at.isoformat(),
    }


async def update(
    session: AsyncSession,
    settings: Settings,
    actor: Principal,
    post_id: uuid.UUID,
    data: ContentUpdate,
) -> Post:
    post = await get_visible(session, actor.id, post_id)
    if post.author_id != actor.id:
        raise Forbidden("Only the author can edit a post")
    changes = data.model_dump(exclude_unset=True)
    if "text" in changes:
        if changes["text"] is None:
            raise Unprocessable("text cannot be null", code="text_required")
        post.text = _validate_text(settings, data.text or "", ContentType(post.content_type))
        post.hashtags = extract_hashtags(post.text)
        post.mentions = await _mentions(session, post.text)
        await ContentRepository(session).replace_hashtags(post.id, post.hashtags)
    if "link_url" in changes:
        if data.link_url is None and post.content_type == ContentType.LINK:
            raise Unprocessable("A link post needs link_url", code="link_url_required")
        post.link_url = str(data.link_url) if data.link_url else None
    if "visibility" in changes:
        if data.visibility is None:
            raise Unprocessable("visibility cannot be null", code="visibility_required")
        post.visibility = data.visibility.value
    if changes:
        post.updated_at = utcnow()
        await session.flush()
        forget(session, post.id)
        await emit(
            session,
            "content.updated",
            actor_id=actor.id,
            key=post.id,
            payload={**event_payload(post), "fields": sorted(changes)},
        )
    return post


async def delete(session: AsyncSession, actor: Principal, post_id: uuid.UUID) -> None:
    post = await get_visible(session, actor.id, post_id)
    if post.author_id != actor.id and not actor.is_staff:
        raise Forbidden("Only the author or a moderator can delete a post")
    post.deleted_at = utcnow()
    post.deletion_reason = "author" if post.author_id == actor.id else "moderator"
    await session.flush()
    forget(session, post.id)
    await emit(
        session,
        "content.deleted",
        actor_id=actor.id,
        key=post.id,
        payload={
            "content_id": str(post.id),
            "author_id": str(post.author_id),
            "visibility": post.visibility,
            "reason": post.deletion_reason,
        },
    )


async def can_view(session: AsyncSession, viewer_id: uuid.UUID | None, post: Post) -> bool:
    if post.deleted_at is not None:
        return False
    if viewer_id == post.author_id:
        return True
    if viewer_id is not None and await graph.is_blocked_between(session, viewer_id, post.author_id):
        return False
    if post.visibility == Visibility.PUBLIC:
        return True
    if post.visibility == Visibility.FOLLOWERS and viewer_id is not None:
        return await graph.is_following(session, viewer_id, post.author_id)
    return False


async def get_visible(
    session: AsyncSession, viewer_id: uuid.UUID | None, post_id: uuid.UUID
) -> Post:
    """The post if this viewer may see it; 404 otherwise, so hidden posts are not revealed."""
    post = await ContentRepository(session).get(post_id)
    if post is None or not await can_view(session, viewer_id, post):
        raise NotFound("Content not found")
    return post


async def _author_visibilities(
    session: AsyncSession, viewer_id: uuid.UUID | None, author_id: uuid.UUID
) -> list[str]:
    if viewer_id == author_id:
        return [v.value for v in Visibility]
    if viewer_id is not None and await graph.is_following(session, viewer_id, author_id):
        return [Visibility.PUBLIC.value, Visibility.FOLLOWERS.value]
    return [Visibility.PUBLIC.value]


async def by_author(
    session: AsyncSession,
    viewer_id: uuid.UUID | None,
    author_id: uuid.UUID,
    before: uuid.UUID | None,
    limit: int,
) -> Sequence[Post]:
    if await users.get_active(session, author_id) is None:
        raise NotFound("User not found")
    if viewer_id is not None and await graph.is_blocked_between(session, viewer_id, author_id):
        raise NotFound("User not found")
    visibilities = await _author_visibilities(session, viewer_id, author_id)
    return await ContentRepository(session).by_author(author_id, visibilities, before, limit)


async def count_by_author(
    session: AsyncSession, viewer_id: uuid.UUID | None, author_id: uuid.UUID
) -> int:
    visibilities = await _author_visibilities(session, viewer_id, author_id)
    return await ContentRepository(session).count_by_author(author_id, visibilities)


async def feed_page(
    session: AsyncSession,
    scope: FeedScope,
    *,
    before: uuid.UUID | None = None,
    after: uuid.UUID | None = None,
    offset: int = 0,
    limit: int,
) -> Sequence[Post]:
    return await ContentRepository(session).feed_page(
        scope, before=before, after=after, offset=offset, limit=limit
    )


async def feed_count(
    session: AsyncSession, scope: FeedScope, *, after: uuid.UUID | None = None
) -> int:
    return await ContentRepository(session).feed_count(scope, after=after)


async def adjust_counter(
    session: AsyncSession, post_id: uuid.UUID, counter: str, delta: int
) -> None:
    """Called by the engagement context in the same transaction as the like/comment/share."""
    await ContentRepository(session).adjust_counter(post_id, counter, delta)
    forget(session, post_id)


@on_event("user.deleted")
async def _hide_deleted_accounts_posts(session: AsyncSession, event: OutboxEvent) -> None:
    hidden = await ContentRepository(session).soft_delete_by_author(
        uuid.UUID(event.payload["user_id"]), utcnow(), "account_deleted"
    )
    forget(session, *hidden)


async def recent_for_followers(
    session: AsyncSession, author_id: uuid.UUID, limit: int
) -> Sequence[Post]:
    """An author's newest posts a follower may see (timelines merge them on follow)."""
    shared = [Visibility.PUBLIC.value, Visibility.FOLLOWERS.value]
    return await ContentRepository(session).by_author(author_id, shared, None, limit)


async def recent_ids_by_author(
    session: AsyncSession, author_id: uuid.UUID, limit: int
) -> list[uuid.UUID]:
    everything = [v.value for v in Visibility]
    return [
        p.id for p in await ContentRepository(session).by_author(author_id, everything, None, limit)
    ]


async def get_many(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Post]:
    """Live (not deleted) posts by id, without visibility checks: callers filter."""
    return await ContentRepository(session).get_many(ids)


async def documents(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Document]:
    """Live posts as shared JSON documents (near-cached), without visibility checks."""
    return await _documents(session, ids)


def document_key(post_id: uuid.UUID) -> str:
    """The near-cache key of a post's document (readers that memoise pages watch it)."""
    return _document_key(post_id)
