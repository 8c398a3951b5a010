"""All SQL of the bus: reading the outbox log, offsets, dead letters, relay bookkeeping."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.platform.bus.models import ConsumerOffset, DeadLetter
from snsfeed.platform.db import insert_ignore
from snsfeed.platform.outbox import OutboxEvent
from snsfeed.platform.time import utcnow


class BusRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_offset(self, name: str) -> int:
        """Current offset of a consumer group, row-locked so one process reads the log at a time.

        The row is inserted only when missing: on SQLite any write takes the database's
        write lock for the rest of the transaction, and a batch whose handler runs for a
        while (the media transcoder) must not hold every API write up meanwhile. (SQLite
        has no row locks, so there processes running the same group may both handle an
        event; handlers are idempotent.)
        """
        stmt = select(ConsumerOffset.last_seq).where(ConsumerOffset.name == name).with_for_update()
        offset = (await self.session.execute(stmt)).scalar_one_or_none()
        if offset is not None:
            return int(offset)
        await insert_ignore(
            self.session, ConsumerOffset, {"name": name, "last_seq": 0, "updated_at": utcnow()}
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def set_offset(self, name: str, seq: int) -> None:
        stmt = (
            update(ConsumerOffset)
            .where(ConsumerOffset.name == name)
            .values(last_seq=seq, updated_at=utcnow())
        )
        await self.session.execute(stmt)

    async def offsets(self) -> dict[str, int]:
        rows = (
            await self.session.execute(select(ConsumerOffset.name, ConsumerOffset.last_seq))
        ).all()
        return {r.name: int(r.last_seq) for r in rows}

    async def events_after(self, seq: int, limit: int) -> Sequence[OutboxEvent]:
        stmt = (
            select(OutboxEvent).where(OutboxEvent.seq > seq).order_by(OutboxEvent.seq).limit(limit)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def prune(
        self, *, occurred_before: datetime, up_to_seq: int | None, published_only: bool
    ) -> int:
        """Delete outbox rows older than a time (and read by everyone, see the caller)."""
        stmt = delete(OutboxEvent).where(OutboxEvent.occurred_at < occurred_before)
        if up_to_seq is not None:
            stmt = stmt.where(OutboxEvent.seq <= up_to_seq)
        if published_only:
            stmt = stmt.where(OutboxEvent.published_at.is_not(None))
        result = await self.session.execute(stmt)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def max_seq(self) -> int:
        return int((await self.session.execute(select(func.max(OutboxEvent.seq)))).scalar() or 0)

    async def unpublished(self, limit: int) -> Sequence[OutboxEvent]:
        """Rows the relay still has to publish; other relays skip the rows this one holds."""
        stmt = (
            select(OutboxEvent)
            .where(OutboxEvent.published_at.is_(None))
            .order_by(OutboxEvent.seq)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def mark_published(self, seqs: Sequence[int], now: datetime) -> None:
        if seqs:
            stmt = (
                update(OutboxEvent).where(OutboxEvent.seq.in_(list(seqs))).values(published_at=now)
            )
            await self.session.execute(stmt)

    async def count_unpublished(self) -> int:
        stmt = (
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None))
        )
        return int((await self.session.execute(stmt)).scalar_one())

    def add_dead_letter(self, letter: DeadLetter) -> None:
        self.session.add(letter)

    async def dead_letters(
        self, consumer: str | None, include_replayed: bool
    ) -> Sequence[DeadLetter]:
        stmt = select(DeadLetter).order_by(DeadLetter.created_at)
        if consumer:
            stmt = stmt.where(DeadLetter.consumer == consumer)
        if not include_replayed:
            stmt = stmt.where(DeadLetter.replayed_at.is_(None))
        return (await self.session.execute(stmt.limit(1000))).scalars().all()

    async def get_dead_letter(self, letter_id: uuid.UUID) -> DeadLetter | None:
        return await self.session.get(DeadLetter, letter_id)
