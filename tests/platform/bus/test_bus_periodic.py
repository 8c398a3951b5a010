"""Periodic loop groups: a pass now and then at each interval, failures survived, stops."""

from __future__ import annotations

import asyncio

from snsfeed.config import Settings
from snsfeed.platform.bus.consumer import ConsumerContext, periodic_spec


async def test_a_periodic_group_keeps_going_after_a_failed_pass_and_stops_when_asked() -> None:
    passes = 0
    stopping = asyncio.Event()

    async def work(_: ConsumerContext) -> int:
        nonlocal passes
        passes += 1
        if passes == 1:
            raise RuntimeError("the first pass fails")
        if passes == 3:
            stopping.set()
        return 1

    spec = periodic_spec("tidy", work, interval=lambda _: 0.01)
    assert spec.loop is not None
    ctx = ConsumerContext(settings=Settings(), sessionmaker=None)  # type: ignore[arg-type]
    await asyncio.wait_for(spec.loop(ctx, stopping), 5)
    assert passes == 3
