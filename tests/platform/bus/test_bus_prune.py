"""Outbox pruning: only events past retention that every reader is done with go."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select, update

from snsfeed.platform.bus.consumer import registered_consumers
from snsfeed.platform.bus.models import ConsumerOffset
from snsfeed.platform.bus.prune import prune_outbox, prune_pass
from snsfeed.platform.outbox import OutboxEvent
from tests.helpers import Api


async def _settled(app: FastAPI) -> None:
    await app.state.runtime.bus.wait_idle(within_seconds=30)


async def _count(app: FastAPI) -> int:
    async with app.state.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(OutboxEvent))).scalar())


async def _prune(app: FastAPI) -> int:
    async with app.state.sessionmaker() as session:
        pruned = await prune_outbox(session, app.state.settings)
        await session.commit()
    return pruned


async def test_delivered_events_past_retention_are_deleted(
    app: FastAPI, api: Api, monkeypatch: Any
) -> None:
    await api.register()
    await _settled(app)
    written = await _count(app)
    assert written > 0
    assert await _prune(app) == 0  # within the retention
    monkeypatch.setattr(app.state.settings, "outbox_retention_hours", 0)
    assert await _prune(app) == written
    assert await _count(app) == 0


async def test_events_a_reader_has_not_reached_are_kept(
    app: FastAPI, api: Api, monkeypatch: Any
) -> None:
    await api.register()
    await _settled(app)
    monkeypatch.setattr(app.state.settings, "outbox_retention_hours", 0)
    # All in one uncommitted transaction, so the running bus cannot move anything meanwhile.
    async with app.state.sessionmaker() as session:
        count = select(func.count()).select_from(OutboxEvent)
        written = int((await session.execute(count)).scalar())
        first = int((await session.execute(select(func.min(OutboxEvent.seq)))).scalar())
        if app.state.settings.broker_url:
            # With a broker, "not reached" means not yet published by the relay.
            await session.execute(
                update(OutboxEvent).where(OutboxEvent.seq > first).values(published_at=None)
            )
        else:
            await session.execute(update(ConsumerOffset).values(last_seq=first))
        assert await prune_outbox(session, app.state.settings) == 1
        assert int((await session.execute(count)).scalar()) == written - 1
        await session.rollback()


async def test_pruning_is_a_registered_periodic_group(app: FastAPI) -> None:
    spec = registered_consumers()["outbox-prune"]
    assert spec.loop is not None
    assert await prune_pass(app.state.runtime.consumer_context) == 0  # nothing is old enough
