"""``snsfeed worker`` and the dead-letter tools behind ``snsfeed dlq``."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import Sequence

import structlog

from snsfeed.config import Settings
from snsfeed.platform.bus.consumer import registered_consumers
from snsfeed.platform.bus.envelope import Event
from snsfeed.platform.bus.models import DeadLetter
from snsfeed.platform.bus.repository import BusRepository
from snsfeed.platform.time import utcnow
from snsfeed.runtime import start_runtime, stop_runtime

log = structlog.get_logger("snsfeed.worker")


async def run_worker(settings: Settings, consumers: list[str] | None, *, relay: bool) -> None:
    """Run consumer groups until SIGTERM/SIGINT, then finish in-flight events and exit."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runtime = await start_runtime(settings, consumers=consumers, run_consumers=True, relay=relay)
    names = [s.name for s in runtime.bus.specs] if runtime.bus else []
    log.info("worker_started", consumers=names, relay=relay and bool(settings.broker_url))
    try:
        await stop.wait()
    finally:
        log.info("worker_stopping")
        await stop_runtime(runtime)


async def list_dead_letters(
    settings: Settings, consumer: str | None, include_replayed: bool
) -> Sequence[DeadLetter]:
    runtime = await start_runtime(settings, relay=False)
    try:
        async with runtime.sessionmaker() as session:
            return await BusRepository(session).dead_letters(consumer, include_replayed)
    finally:
        await stop_runtime(runtime)


async def replay_dead_letters(
    settings: Settings, ids: list[uuid.UUID] | None
) -> list[tuple[str, str]]:
    """Run each dead letter's handler again; returns (id, outcome) pairs."""
    runtime = await start_runtime(settings, relay=False)
    specs = registered_consumers()
    outcomes: list[tuple[str, str]] = []
    try:
        async with runtime.sessionmaker() as session:
            letters = await BusRepository(session).dead_letters(None, include_replayed=False)
        wanted = [d for d in letters if ids is None or d.id in ids]
        for letter in wanted:
            spec = specs.get(letter.consumer)
            if spec is None:
                outcomes.append((str(letter.id), f"unknown consumer {letter.consumer}"))
                continue
            try:
                async with runtime.sessionmaker() as session:
                    event = Event.from_json(letter.envelope.encode())
                    await spec.handler(session, event, runtime.consumer_context)
                    row = await BusRepository(session).get_dead_letter(letter.id)
                    if row is not None:
                        row.replayed_at = utcnow()
                    await session.commit()
                outcomes.append((str(letter.id), "replayed"))
            except Exception as exc:
                outcomes.append((str(letter.id), f"failed again: {exc!r}"))
    finally:
        await stop_runtime(runtime)
    return outcomes
