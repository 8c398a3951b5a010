"""Starts and stops the bus for a process: the relay (with a broker) and consumer groups."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import structlog

from snsfeed.platform.bus import jetstream
from snsfeed.platform.bus.consumer import ConsumerContext, ConsumerSpec, sleep_or_stop
from snsfeed.platform.bus.repository import BusRepository
from snsfeed.platform.bus.sqllog import SqlLogConsumer

log = structlog.get_logger("snsfeed.bus")


class EventBus:
    def __init__(
        self, ctx: ConsumerContext, specs: list[ConsumerSpec], *, relay: bool = True
    ) -> None:
        self.ctx = ctx
        self.specs = specs
        self.relay_enabled = relay and bool(ctx.settings.broker_url)
        self.stopping = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.nc: Any = None
        self.js: Any = None
        self.connected = asyncio.Event()

    @property
    def uses_broker(self) -> bool:
        return bool(self.ctx.settings.broker_url)

    @property
    def event_specs(self) -> list[ConsumerSpec]:
        return [s for s in self.specs if s.loop is None]

    async def start(self) -> None:
        for spec in self.specs:
            if spec.loop is not None:
                self._spawn(spec.loop(self.ctx, self.stopping), spec.name)
        if self.uses_broker:
            # Connect in the background: a broker that is down must not keep the API (or a
            # worker) from starting; events wait in the outbox meanwhile.
            self.tasks.append(asyncio.create_task(self._run_with_broker(), name="broker"))
        else:
            for spec in self.event_specs:
                self._spawn(SqlLogConsumer(self.ctx, spec).run(self.stopping), spec.name)
        log.info(
            "bus_started",
            backend="jetstream" if self.uses_broker else "sql-log",
            consumers=[s.name for s in self.specs],
            relay=self.relay_enabled,
        )

    async def _run_with_broker(self) -> None:
        if not await self._connect_broker():
            return
        runners = []
        if self.relay_enabled:
            runners.append(jetstream.Relay(self.ctx, self.js).run(self.stopping))
        for spec in self.event_specs:
            runners.append(jetstream.JetStreamConsumer(self.ctx, spec, self.js).run(self.stopping))
        await asyncio.gather(*runners)

    def _spawn(self, coro: Any, name: str) -> None:
        self.tasks.append(asyncio.create_task(coro, name=f"consumer:{name}"))

    async def _connect_broker(self) -> bool:
        delay = 0.2
        while not self.stopping.is_set():
            try:
                self.nc = await jetstream.connect(self.ctx.settings)
                self.js = self.nc.jetstream()
                await jetstream.ensure_streams(self.js, self.ctx.settings)
                self.connected.set()
                return True
            except Exception as exc:
                log.warning("broker_unavailable", error=repr(exc), retry_in=delay)
                await sleep_or_stop(self.stopping, delay)
                delay = min(delay * 2, 5.0)
        return False

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Finish in-flight events, then stop; unfinished ones are redelivered later."""
        self.stopping.set()
        if self.tasks:
            _, pending = await asyncio.wait(self.tasks, timeout=grace_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        self.tasks.clear()
        if self.nc is not None:
            with contextlib.suppress(Exception):  # already closed
                await self.nc.drain()

    async def backlog(self) -> int:
        """Events written but not yet fully handled by this process's consumer groups."""
        async with self.ctx.sessionmaker() as session:
            repo = BusRepository(session)
            if self.uses_broker:
                unpublished = await repo.count_unpublished()
                if not self.connected.is_set():
                    return unpublished + 1  # nothing can be handled before the broker answers
                return unpublished + await jetstream.pending(
                    self.js, self.ctx.settings.nats_stream, self.event_specs
                )
            head = await repo.max_seq()
            offsets = await repo.offsets()
            return sum(max(0, head - offsets.get(s.name, 0)) for s in self.event_specs)

    async def wait_idle(self, within_seconds: float = 10.0) -> None:
        """Wait until every event so far is handled (tests and the demo use it)."""
        deadline = time.monotonic() + within_seconds
        while await self.backlog() > 0:
            if time.monotonic() > deadline:
                raise TimeoutError(f"event bus still has a backlog after {within_seconds} s")
            await asyncio.sleep(0.02)
