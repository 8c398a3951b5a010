"""All SQL of the media context."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.media.models import Media, MediaStatus


class MediaRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, media: Media) -> None:
        self.session.add(media)

    async def get(self, media_id: uuid.UUID) -> Media | None:
        return await self.session.get(Media, media_id)

    async def status_and_source(self, media_id: uuid.UUID) -> tuple[str, str | None] | None:
        stmt = select(Media.status, Media.source_key).where(Media.id == media_id)
        row = (await self.session.execute(stmt)).one_or_none()
        return (row.status, row.source_key) if row else None

    async def owned(self, owner_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> Sequence[Media]:
        stmt = select(Media).where(
            Media.owner_id == owner_id, Media.id.in_(ids), Media.delete_after.is_(None)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def finish_processing(self, media_id: uuid.UUID, values: dict[str, Any]) -> bool:
        """Record a transcoder's outcome, once: only a row still ``processing`` changes."""
        stmt = (
            update(Media)
            .where(Media.id == media_id, Media.status == MediaStatus.PROCESSING.value)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool((await self.session.execute(stmt)).rowcount == 1)  # type: ignore[attr-defined]

    async def attach(
        self, ids: Sequence[uuid.UUID], owner_id: uuid.UUID, post_id: uuid.UUID, now: datetime
    ) -> int:
        """Link ready, unattached uploads of this owner to the post; how many were linked.

        One guarded statement, so two posts racing for the same upload cannot both win.
        """
        attached = 0
        for position, media_id in enumerate(ids):
            stmt = (
                update(Media)
                .where(
                    Media.id == media_id,
                    Media.owner_id == owner_id,
                    Media.status == MediaStatus.READY.value,
                    Media.post_id.is_(None),
                    Media.delete_after.is_(None),
                )
                .values(post_id=post_id, position=position, attached_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            attached += (await self.session.execute(stmt)).rowcount  # type: ignore[attr-defined]
        return attached

    async def for_posts(self, post_ids: Sequence[uuid.UUID]) -> Sequence[Media]:
        stmt = (
            select(Media)
            .where(
                Media.post_id.in_(post_ids),
                Media.delete_after.is_(None),
                Media.status == MediaStatus.READY.value,
            )
            .order_by(Media.post_id, Media.position)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def schedule_deletion(
        self, now: datetime, *, post_id: uuid.UUID | None = None, owner_id: uuid.UUID | None = None
    ) -> int:
        condition = Media.post_id == post_id if post_id is not None else Media.owner_id == owner_id
        stmt = (
            update(Media)
            .where(condition, Media.delete_after.is_(None))
            .values(delete_after=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return int((await self.session.execute(stmt)).rowcount)  # type: ignore[attr-defined]

    async def due_for_cleanup(
        self, now: datetime, orphaned_before: datetime, limit: int
    ) -> Sequence[Media]:
        """Scheduled for deletion, or never attached (and so never visible) for too long."""
        stmt = (
            select(Media)
            .where(
                or_(
                    Media.delete_after <= now,
                    and_(Media.post_id.is_(None), Media.created_at < orphaned_before),
                )
            )
            .order_by(Media.id)
            .limit(limit)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def delete_rows(self, ids: Sequence[uuid.UUID]) -> None:
        await self.session.execute(delete(Media).where(Media.id.in_(ids)))
