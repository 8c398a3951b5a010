"""The production bus: outbox relay to NATS JetStream and durable pull consumers."""

from __future__ import annotations

import uuid

import nats

from snsfeed.config import Settings
from snsfeed.platform.bus import jetstream
from snsfeed.platform.bus.repository import BusRepository
from snsfeed.platform.bus.runner import EventBus
from snsfeed.runtime import Runtime
from tests.platform.bus.conftest import NATS_URL, Recorder, wait_for, write_events


async def _stream_messages(settings: Settings) -> int:
    nc = await nats.connect(NATS_URL)
    try:
        info = await nc.jetstream().stream_info(settings.nats_stream)
        return int(info.state.messages)
    finally:
        await nc.close()


async def test_relay_publishes_outbox_rows_and_marks_them(nats_runtime: Runtime) -> None:
    bus = EventBus(nats_runtime.consumer_context, [], relay=True)
    await bus.start()
    await write_events(nats_runtime, ["a.x", "a.y"])
    await bus.wait_idle(within_seconds=10)
    await bus.stop()
    assert await _stream_messages(nats_runtime.settings) == 2
    async with nats_runtime.sessionmaker() as session:
        assert await BusRepository(session).count_unpublished() == 0


async def test_republishing_an_event_is_deduplicated_by_its_id(nats_runtime: Runtime) -> None:
    ids = await write_events(nats_runtime, ["a.x"])
    bus = EventBus(nats_runtime.consumer_context, [], relay=True)
    await bus.start()
    await bus.wait_idle(within_seconds=10)
    # A relay that crashed after publishing but before marking the row publishes again.
    async with nats_runtime.sessionmaker() as session:
        from sqlalchemy import update

        from snsfeed.platform.outbox import OutboxEvent

        await session.execute(update(OutboxEvent).values(published_at=None))
        await session.commit()
    await bus.wait_idle(within_seconds=10)
    await bus.stop()
    assert len(ids) == 1
    assert await _stream_messages(nats_runtime.settings) == 1


async def test_consumer_receives_relayed_events(nats_runtime: Runtime) -> None:
    recorder = Recorder("rec")
    bus = EventBus(nats_runtime.consumer_context, [recorder.spec({"a.x", "a.y"})], relay=True)
    await bus.start()
    ids = await write_events(nats_runtime, ["a.x", "a.y", "a.z"])
    await bus.wait_idle(within_seconds=10)
    await bus.stop()
    assert [e.id for e in recorder.seen] == ids[:2]


async def test_processes_sharing_a_group_split_the_events(nats_runtime: Runtime) -> None:
    one, two = Recorder("shared"), Recorder("shared")
    relay = EventBus(nats_runtime.consumer_context, [], relay=True)
    bus_one = EventBus(nats_runtime.consumer_context, [one.spec({"a.x"})], relay=False)
    bus_two = EventBus(nats_runtime.consumer_context, [two.spec({"a.x"})], relay=False)
    for bus in (relay, bus_one, bus_two):
        await bus.start()
    ids = await write_events(nats_runtime, ["a.x"] * 40)
    await wait_for(lambda: len(one.seen) + len(two.seen) >= 40, within=15)
    await bus_one.wait_idle(within_seconds=10)
    for bus in (relay, bus_one, bus_two):
        await bus.stop()
    handled = [e.id for e in one.seen + two.seen]
    assert sorted(handled) == sorted(ids)


async def test_failing_event_is_redelivered_then_succeeds(nats_runtime: Runtime) -> None:
    recorder = Recorder("rec", fail_times={"a.x": 1})
    bus = EventBus(nats_runtime.consumer_context, [recorder.spec({"a.x"})], relay=True)
    await bus.start()
    ids = await write_events(nats_runtime, ["a.x"])
    await wait_for(lambda: len(recorder.seen) == 1, within=10)
    await bus.stop()
    assert [e.id for e in recorder.seen] == ids


async def test_poison_event_is_dead_lettered_after_max_attempts(nats_runtime: Runtime) -> None:
    recorder = Recorder("rec", always_fail={"bad"})
    bus = EventBus(nats_runtime.consumer_context, [recorder.spec({"bad", "good"})], relay=True)
    await bus.start()
    ids = await write_events(nats_runtime, ["bad", "good"])
    await bus.wait_idle(within_seconds=15)
    await bus.stop()
    assert [e.id for e in recorder.seen] == [ids[1]]
    async with nats_runtime.sessionmaker() as session:
        letters = await BusRepository(session).dead_letters("rec", include_replayed=False)
    assert [(d.event_id, d.attempts) for d in letters] == [(ids[0], 3)]


async def test_durable_consumer_name_is_per_group() -> None:
    assert jetstream.durable_name(Recorder("timelines").spec(set())) == "snsfeed-timelines"


async def test_a_handler_running_past_the_ack_wait_is_not_redelivered(
    nats_runtime: Runtime,
) -> None:
    # A video transcode outlives the ack wait; the worker keeps telling JetStream it is
    # still at it, so no other process starts the same work.
    import asyncio

    from sqlalchemy.ext.asyncio import AsyncSession

    from snsfeed.platform.bus.consumer import ConsumerContext, ConsumerSpec
    from snsfeed.platform.bus.envelope import Event

    nats_runtime.settings.bus_ack_wait_seconds = 1.0
    calls: list[uuid.UUID] = []

    async def slow(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
        calls.append(event.id)
        await asyncio.sleep(3.0)

    spec = ConsumerSpec(name="slowjs", handler=slow, event_types=frozenset({"a.x"}))
    buses = [
        EventBus(nats_runtime.consumer_context, [spec], relay=True),
        EventBus(nats_runtime.consumer_context, [spec], relay=False),
    ]
    for bus in buses:
        await bus.start()
    try:
        ids = await write_events(nats_runtime, ["a.x"])
        await buses[0].wait_idle(within_seconds=15)
    finally:
        for bus in buses:
            await bus.stop()
    assert calls == ids
