"""Embedded bus: consumer groups read the outbox table as an ordered log.

Each group's offset moves in the same transaction as the handler's SQL effects, so
SQL effects happen exactly once; Redis effects must be idempotent. The offset row is
locked while a batch runs, so several processes on PostgreSQL share a group safely.

PostgreSQL hands out ``seq`` at insert time, so a later number can commit before an
earlier one. A consumer therefore stops at a gap until the missing row commits or the
gap is older than ``bus_gap_grace_seconds`` (its transaction rolled back).
"""

from __future__ import annotations

import asyncio
import traceback
import uuid
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.platform.bus.consumer import ConsumerContext, ConsumerSpec, sleep_or_stop
from snsfeed.platform.bus.envelope import Event
from snsfeed.platform.bus.models import DeadLetter
from snsfeed.platform.bus.repository import BusRepository
from snsfeed.platform.bus.retry import delay_after
from snsfeed.platform.time import utcnow

log = structlog.get_logger("snsfeed.bus")


class SqlLogConsumer:
    def __init__(self, ctx: ConsumerContext, spec: ConsumerSpec) -> None:
        self.ctx = ctx
        self.spec = spec
        self.attempts: dict[uuid.UUID, int] = {}
        self.retry_delay = 0.0

    async def run(self, stopping: asyncio.Event) -> None:
        interval = self.ctx.settings.bus_poll_interval_seconds
        while not stopping.is_set():
            try:
                handled = await self.process_batch()
            except Exception as exc:  # database unavailable and the like: back off, keep going
                log.warning("bus_batch_failed", consumer=self.spec.name, error=repr(exc))
                handled, self.retry_delay = 0, max(self.retry_delay, 1.0)
            wait = self.retry_delay or (0 if handled else interval)
            self.retry_delay = 0.0
            if wait:
                await sleep_or_stop(stopping, wait)

    async def process_batch(self) -> int:
        """Handle the next events; returns how many were consumed."""
        settings = self.ctx.settings
        async with self.ctx.sessionmaker() as session:
            repo = BusRepository(session)
            offset = await repo.lock_offset(self.spec.name)
            rows = await repo.events_after(offset, settings.bus_batch_size)
            consumed = 0
            for row in rows:
                if row.seq != offset + 1 and not self._gap_expired(row.occurred_at):
                    break  # a lower number may still commit: wait for it a little
                if self.spec.wants(row.type):
                    event = Event.from_outbox(row)
                    if not await self._handle(session, repo, event):
                        break  # retry this event later, after a backoff
                offset = row.seq
                consumed += 1
            if consumed:
                await repo.set_offset(self.spec.name, offset)
            await session.commit()
            return consumed

    def _gap_expired(self, occurred_at: datetime) -> bool:
        """A gap is a rolled-back (or slow) transaction; after the grace period, move on."""
        grace = self.ctx.settings.bus_gap_grace_seconds
        return (utcnow() - occurred_at).total_seconds() >= grace

    async def _handle(self, session: AsyncSession, repo: BusRepository, event: Event) -> bool:
        try:
            async with session.begin_nested():
                await self.spec.handler(session, event, self.ctx)
        except Exception as exc:
            attempt = self.attempts.get(event.id, 0) + 1
            self.attempts[event.id] = attempt
            if attempt < self.ctx.settings.bus_max_attempts:
                self.retry_delay = delay_after(attempt, self.ctx.settings.bus_retry_delays_seconds)
                log.warning(
                    "consumer_retry",
                    consumer=self.spec.name,
                    event_id=str(event.id),
                    type=event.type,
                    attempt=attempt,
                    error=repr(exc),
                )
                return False
            log.error("consumer_dead_letter", consumer=self.spec.name, event_id=str(event.id))
            repo.add_dead_letter(dead_letter(self.spec.name, event, exc, attempt))
        self.attempts.pop(event.id, None)
        return True


def dead_letter(consumer: str, event: Event, exc: BaseException, attempts: int) -> DeadLetter:
    return DeadLetter(
        consumer=consumer,
        event_id=event.id,
        event_type=event.type,
        envelope=event.to_json().decode(),
        error="".join(traceback.format_exception_only(type(exc), exc)).strip()[:4000],
        attempts=attempts,
    )
