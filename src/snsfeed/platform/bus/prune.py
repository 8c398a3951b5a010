"""Pruning the outbox: events every reader is done with go after a retention period.

With a broker, an event is done once the relay published it (JetStream keeps its own
copy, de-duplicated by id). On the embedded log, an event is done once every consumer
group that reads the log has moved its offset past it; while any of them has not
started reading, nothing is pruned. Dead letters keep their own copy of the envelope,
so pruning never gets in the way of a replay. The retention leaves room for
inspection and for rewinding an offset by hand.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.config import Settings
from snsfeed.platform.bus.consumer import (
    ConsumerContext,
    periodic_spec,
    register_consumer,
    runnable_consumers,
)
from snsfeed.platform.bus.repository import BusRepository
from snsfeed.platform.db import session_scope
from snsfeed.platform.time import utcnow

log = structlog.get_logger("snsfeed.bus")


async def prune_outbox(session: AsyncSession, settings: Settings) -> int:
    """Delete the events past retention that no reader still needs; how many went."""
    repo = BusRepository(session)
    before = utcnow() - timedelta(hours=settings.outbox_retention_hours)
    if settings.broker_url:
        return await repo.prune(occurred_before=before, up_to_seq=None, published_only=True)
    readers = [s.name for s in runnable_consumers(settings) if s.loop is None]
    offsets = await repo.offsets()
    if not readers or any(name not in offsets for name in readers):
        return 0
    done = min(offsets[name] for name in readers)
    return await repo.prune(occurred_before=before, up_to_seq=done, published_only=False)


async def prune_pass(ctx: ConsumerContext) -> int:
    pruned = 0
    async for session in session_scope(ctx.sessionmaker):  # commits after the body
        pruned = await prune_outbox(session, ctx.settings)
    return pruned


register_consumer(
    periodic_spec(
        "outbox-prune",
        prune_pass,
        interval=lambda settings: settings.outbox_prune_interval_seconds,
        description="deletes outbox events every reader is done with, after the retention",
    )
)
