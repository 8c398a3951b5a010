"""All SQL of the engagement context."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, literal, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.engagement.models import Comment, Reaction, Share
from snsfeed.platform.db import insert_ignore
from snsfeed.platform.ids import new_id
from snsfeed.platform.time import utcnow

LIKE = "like"


class EngagementRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_like(self, user_id: uuid.UUID, content_id: uuid.UUID) -> bool:
        return await insert_ignore(
            self.session,
            Reaction,
            {
                "id": new_id(),
                "user_id": user_id,
                "content_id": content_id,
                "reaction_type": LIKE,
                "created_at": utcnow(),
            },
        )

    async def remove_like(self, user_id: uuid.UUID, content_id: uuid.UUID) -> bool:
        stmt = delete(Reaction).where(
            Reaction.user_id == user_id,
            Reaction.content_id == content_id,
            Reaction.reaction_type == LIKE,
        )
        return bool((await self.session.execute(stmt)).rowcount == 1)  # type: ignore[attr-defined]

    async def states_among(
        self, user_id: uuid.UUID, content_ids: Iterable[uuid.UUID]
    ) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
        """(liked, shared) among these posts, in one round trip."""
        ids = list(content_ids)
        if not ids:
            return set(), set()
        likes = select(Reaction.content_id.label("content_id"), literal("l").label("kind")).where(
            Reaction.user_id == user_id,
            Reaction.content_id.in_(ids),
            Reaction.reaction_type == LIKE,
        )
        shares = select(Share.content_id, literal("s")).where(
            Share.user_id == user_id, Share.content_id.in_(ids)
        )
        rows = (await self.session.execute(union_all(likes, shares))).all()
        liked = {r.content_id for r in rows if r.kind == "l"}
        return liked, {r.content_id for r in rows if r.kind == "s"}

    async def add_share(self, user_id: uuid.UUID, content_id: uuid.UUID) -> bool:
        return await insert_ignore(
            self.session,
            Share,
            {"id": new_id(), "user_id": user_id, "content_id": content_id, "created_at": utcnow()},
        )

    async def remove_share(self, user_id: uuid.UUID, content_id: uuid.UUID) -> bool:
        stmt = delete(Share).where(Share.user_id == user_id, Share.content_id == content_id)
        return bool((await self.session.execute(stmt)).rowcount == 1)  # type: ignore[attr-defined]

    async def shared_among(
        self, user_id: uuid.UUID, content_ids: Iterable[uuid.UUID]
    ) -> set[uuid.UUID]:
        ids = list(content_ids)
        if not ids:
            return set()
        stmt = select(Share.content_id).where(Share.user_id == user_id, Share.content_id.in_(ids))
        return set((await self.session.execute(stmt)).scalars())

    def add_comment(self, comment: Comment) -> None:
        self.session.add(comment)

    async def get_comment(self, comment_id: uuid.UUID) -> Comment | None:
        stmt = select(Comment).where(Comment.id == comment_id, Comment.deleted_at.is_(None))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def live_comment_ids(self, comment_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        ids = list(comment_ids)
        if not ids:
            return set()
        stmt = select(Comment.id).where(Comment.id.in_(ids), Comment.deleted_at.is_(None))
        return set((await self.session.execute(stmt)).scalars())

    async def comments_page(
        self,
        content_id: uuid.UUID,
        parent_id: uuid.UUID | None,
        after: uuid.UUID | None,
        limit: int,
        hidden_authors: set[uuid.UUID],
    ) -> Sequence[Comment]:
        stmt = select(Comment).where(Comment.content_id == content_id, Comment.deleted_at.is_(None))
        stmt = stmt.where(
            Comment.parent_comment_id.is_(None)
            if parent_id is None
            else Comment.parent_comment_id == parent_id
        )
        if hidden_authors:
            stmt = stmt.where(Comment.user_id.not_in(hidden_authors))
        if after is not None:
            stmt = stmt.where(Comment.id > after)
        # Conversations read oldest first.
        stmt = stmt.order_by(Comment.id).limit(limit)
        return (await self.session.execute(stmt)).scalars().all()

    async def reply_counts(
        self, parent_ids: Iterable[uuid.UUID], hidden_authors: set[uuid.UUID]
    ) -> dict[uuid.UUID, int]:
        ids = list(parent_ids)
        if not ids:
            return {}
        stmt = (
            select(Comment.parent_comment_id, func.count())
            .where(Comment.parent_comment_id.in_(ids), Comment.deleted_at.is_(None))
            .group_by(Comment.parent_comment_id)
        )
        if hidden_authors:
            stmt = stmt.where(Comment.user_id.not_in(hidden_authors))
        return {
            pid: int(n) for pid, n in (await self.session.execute(stmt)).all() if pid is not None
        }

    async def soft_delete_comment(self, comment_id: uuid.UUID, now: datetime) -> bool:
        stmt = (
            update(Comment)
            .where(Comment.id == comment_id, Comment.deleted_at.is_(None))
            .values(deleted_at=now)
        )
        return bool((await self.session.execute(stmt)).rowcount == 1)  # type: ignore[attr-defined]

    # Account deletion: remove what this user did and report which posts it touched, in one
    # statement each, so a like committed concurrently cannot be removed without being counted.
    async def delete_likes_by_user(self, user_id: uuid.UUID) -> list[uuid.UUID]:
        stmt = (
            delete(Reaction)
            .where(Reaction.user_id == user_id, Reaction.reaction_type == LIKE)
            .returning(Reaction.content_id)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def delete_shares_by_user(self, user_id: uuid.UUID) -> list[uuid.UUID]:
        stmt = delete(Share).where(Share.user_id == user_id).returning(Share.content_id)
        return list((await self.session.execute(stmt)).scalars())

    async def soft_delete_comments_by_user(
        self, user_id: uuid.UUID, now: datetime
    ) -> dict[uuid.UUID, int]:
        """Hide the user's live comments; how many were hidden per post."""
        stmt = (
            update(Comment)
            .where(Comment.user_id == user_id, Comment.deleted_at.is_(None))
            .values(deleted_at=now)
            .returning(Comment.content_id)
            .execution_options(synchronize_session=False)
        )
        return dict(Counter((await self.session.execute(stmt)).scalars()))

    async def shares_by_users(
        self,
        user_ids: Sequence[uuid.UUID],
        *,
        before: datetime | None,
        after: datetime | None,
        limit: int,
    ) -> Sequence[Share]:
        """Newest shares by these users (the repost entries of a home feed)."""
        if not user_ids:
            return []
        stmt = select(Share).where(Share.user_id.in_(list(user_ids)))
        if before is not None:
            stmt = stmt.where(Share.created_at < before)
        if after is not None:
            stmt = stmt.where(Share.created_at > after)
        stmt = stmt.order_by(Share.created_at.desc(), Share.id.desc()).limit(limit)
        return (await self.session.execute(stmt)).scalars().all()
