"""Fixtures for event-bus tests: a recording consumer and runtimes on each backend."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.config import Settings
from snsfeed.platform.bus.consumer import ConsumerContext, ConsumerSpec
from snsfeed.platform.bus.envelope import Event
from snsfeed.platform.events import emit
from snsfeed.runtime import Runtime, start_runtime, stop_runtime
from tests.conftest import NATS_URL, base_settings, service_unavailable, truncate_all


def nats_reachable() -> bool:
    host, port = NATS_URL.removeprefix("nats://").split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class Recorder:
    """A consumer that records what it handled and can be told to fail."""

    name: str
    seen: list[Event] = field(default_factory=list)
    fail_times: dict[str, int] = field(default_factory=dict)  # event type -> failures left
    always_fail: set[str] = field(default_factory=set)

    async def handle(self, session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
        if event.type in self.always_fail:
            raise RuntimeError(f"cannot handle {event.type}")
        if self.fail_times.get(event.type, 0) > 0:
            self.fail_times[event.type] -= 1
            raise RuntimeError(f"transient failure on {event.type}")
        self.seen.append(event)

    def spec(self, types: set[str]) -> ConsumerSpec:
        return ConsumerSpec(name=self.name, handler=self.handle, event_types=frozenset(types))


async def write_events(runtime: Runtime, types: list[str]) -> list[uuid.UUID]:
    ids = []
    async with runtime.sessionmaker() as session:
        for n, type_ in enumerate(types):
            event = await emit(session, type_, actor_id=None, key=f"k{n}", payload={"n": n})
            ids.append(event.id)
        await session.commit()
    return ids


async def wait_for(predicate: Callable[[], bool], within: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def bus_settings(tmp: Path, **overrides: Any) -> Settings:
    defaults: dict[str, Any] = {
        "bus_poll_interval_seconds": 0.02,
        "bus_max_attempts": 3,
        "bus_retry_delays_seconds": (0.05, 0.1),
    }
    defaults.update(overrides)
    return base_settings(tmp, **defaults)


@pytest.fixture
async def sql_runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    runtime = await start_runtime(bus_settings(tmp_path), migrate=True)
    yield runtime
    await stop_runtime(runtime)


@pytest.fixture
def nats_settings(tmp_path: Path, pg_database_url: str) -> Settings:
    if not nats_reachable():
        service_unavailable("NATS")
    suffix = uuid.uuid4().hex[:8]
    return bus_settings(
        tmp_path,
        database_url=pg_database_url,
        broker_url=NATS_URL,
        nats_stream=f"TEST_{suffix}",
        nats_subject_prefix=f"test{suffix}.events",
    )


@pytest.fixture
async def nats_runtime(nats_settings: Settings) -> AsyncIterator[Runtime]:
    """A runtime on PostgreSQL + JetStream (relay off: tests start their own bus)."""
    runtime = await start_runtime(nats_settings, relay=False)
    await truncate_all(runtime.engine)
    yield runtime
    await stop_runtime(runtime)
    import nats as nats_client

    nc = await nats_client.connect(NATS_URL)
    js = nc.jetstream()
    with contextlib.suppress(Exception):
        await js.delete_stream(nats_settings.nats_stream)
    await nc.close()
