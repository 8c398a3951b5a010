"""All SQL of the content context."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, false, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.content.models import Post, PostHashtag, Visibility
from snsfeed.content.schemas import FeedScope

_SHARED = (Visibility.PUBLIC.value, Visibility.FOLLOWERS.value)
COUNTERS = ("likes_count", "comments_count", "shares_count", "views_count")


def feed_condition(scope: FeedScope) -> ColumnElement[bool]:
    """The SQL side of a feed scope: own posts, and followed authors' shared ones."""
    followed = [a for a in scope.followed_ids if a not in scope.hidden_author_ids]
    clauses: list[ColumnElement[bool]] = []
    if scope.include_own:
        clauses.append(Post.author_id == scope.viewer_id)
    if followed:
        clauses.append(and_(Post.author_id.in_(followed), Post.visibility.in_(_SHARED)))
    if not clauses:
        return false()
    condition = and_(Post.deleted_at.is_(None), or_(*clauses))
    if scope.content_type is not None:
        condition = and_(condition, Post.content_type == scope.content_type)
    return condition


class ContentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, post: Post) -> None:
        self.session.add(post)

    async def get(self, post_id: uuid.UUID) -> Post | None:
        stmt = select(Post).where(Post.id == post_id, Post.deleted_at.is_(None))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get_many(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Post]:
        id_list = list(set(ids))
        if not id_list:
            return {}
        stmt = select(Post).where(Post.id.in_(id_list), Post.deleted_at.is_(None))
        return {p.id: p for p in (await self.session.execute(stmt)).scalars()}

    async def replace_hashtags(self, post_id: uuid.UUID, tags: Sequence[str]) -> None:
        await self.session.execute(delete(PostHashtag).where(PostHashtag.content_id == post_id))
        for tag in tags:
            self.session.add(PostHashtag(content_id=post_id, tag=tag))

    async def by_author(
        self,
        author_id: uuid.UUID,
        visibilities: Sequence[str],
        before: uuid.UUID | None,
        limit: int,
    ) -> Sequence[Post]:
        stmt = select(Post).where(
            Post.author_id == author_id,
            Post.deleted_at.is_(None),
            Post.visibility.in_(list(visibilities)),
        )
        if before is not None:
            stmt = stmt.where(Post.id < before)
        stmt = stmt.order_by(Post.id.desc()).limit(limit)
        return (await self.session.execute(stmt)).scalars().all()

    async def count_by_author(self, author_id: uuid.UUID, visibilities: Sequence[str]) -> int:
        stmt = (
            select(func.count())
            .select_from(Post)
            .where(
                Post.author_id == author_id,
                Post.deleted_at.is_(None),
                Post.visibility.in_(list(visibilities)),
            )
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def feed_page(
        self,
        scope: FeedScope,
        *,
        before: uuid.UUID | None = None,
        after: uuid.UUID | None = None,
        offset: int = 0,
        limit: int,
    ) -> Sequence[Post]:
        stmt = select(Post).where(feed_condition(scope))
        if before is not None:
            stmt = stmt.where(Post.id < before)
        if after is not None:
            stmt = stmt.where(Post.id > after)
        stmt = stmt.order_by(Post.id.desc()).offset(offset).limit(limit)
        return (await self.session.execute(stmt)).scalars().all()

    async def feed_count(self, scope: FeedScope, *, after: uuid.UUID | None = None) -> int:
        stmt = select(func.count()).select_from(Post).where(feed_condition(scope))
        if after is not None:
            stmt = stmt.where(Post.id > after)
        return int((await self.session.execute(stmt)).scalar_one())

    async def adjust_counter(self, post_id: uuid.UUID, counter: str, delta: int) -> None:
        if counter not in COUNTERS:
            raise ValueError(counter)
        column = getattr(Post, counter)
        # Arithmetic in SQL so concurrent updates serialise on the row instead of losing writes.
        values: dict[str, Any] = {counter: column + delta}
        await self.session.execute(update(Post).where(Post.id == post_id).values(**values))

    async def soft_delete_by_author(
        self, author_id: uuid.UUID, now: datetime, reason: str
    ) -> list[uuid.UUID]:
        stmt = (
            update(Post)
            .where(Post.author_id == author_id, Post.deleted_at.is_(None))
            .values(deleted_at=now, deletion_reason=reason)
            .returning(Post.id)
        )
        return list((await self.session.execute(stmt)).scalars())
