"""The embedded bus: the outbox table read as a log, offsets in the database."""

from __future__ import annotations

from snsfeed.platform.bus.runner import EventBus
from snsfeed.platform.bus.sqllog import SqlLogConsumer
from snsfeed.runtime import Runtime
from tests.platform.bus.conftest import Recorder, wait_for, write_events


async def test_events_reach_a_consumer_once_and_in_order(sql_runtime: Runtime) -> None:
    recorder = Recorder("rec")
    bus = EventBus(sql_runtime.consumer_context, [recorder.spec({"a.x", "a.y"})])
    await bus.start()
    ids = await write_events(sql_runtime, ["a.x", "a.y", "a.x"])
    await bus.wait_idle(within_seconds=5)
    await bus.stop()
    assert [e.id for e in recorder.seen] == ids


async def test_consumer_skips_types_it_does_not_handle(sql_runtime: Runtime) -> None:
    recorder = Recorder("rec")
    bus = EventBus(sql_runtime.consumer_context, [recorder.spec({"a.x"})])
    await bus.start()
    await write_events(sql_runtime, ["a.y", "a.x", "a.z"])
    await bus.wait_idle(within_seconds=5)
    await bus.stop()
    assert [e.type for e in recorder.seen] == ["a.x"]


async def test_restarted_consumer_resumes_after_its_offset(sql_runtime: Runtime) -> None:
    first = Recorder("group")
    bus = EventBus(sql_runtime.consumer_context, [first.spec({"a.x"})])
    await bus.start()
    await write_events(sql_runtime, ["a.x", "a.x"])
    await bus.wait_idle(within_seconds=5)
    await bus.stop()

    later_ids = await write_events(sql_runtime, ["a.x"])
    second = Recorder("group")
    bus = EventBus(sql_runtime.consumer_context, [second.spec({"a.x"})])
    await bus.start()
    await bus.wait_idle(within_seconds=5)
    await bus.stop()
    assert [e.id for e in second.seen] == later_ids


async def test_envelope_carries_every_field(sql_runtime: Runtime) -> None:
    recorder = Recorder("rec")
    bus = EventBus(sql_runtime.consumer_context, [recorder.spec({"a.x"})])
    await bus.start()
    await write_events(sql_runtime, ["a.x"])
    await bus.wait_idle(within_seconds=5)
    await bus.stop()
    event = recorder.seen[0]
    assert (event.type, event.version, event.key, event.payload) == ("a.x", 1, "k0", {"n": 0})
    assert event.occurred_at.tzinfo is not None


async def test_transient_failure_is_retried_until_it_succeeds(sql_runtime: Runtime) -> None:
    recorder = Recorder("rec", fail_times={"a.x": 2})
    bus = EventBus(sql_runtime.consumer_context, [recorder.spec({"a.x"})])
    await bus.start()
    ids = await write_events(sql_runtime, ["a.x"])
    await bus.wait_idle(within_seconds=5)
    await bus.stop()
    assert [e.id for e in recorder.seen] == ids


async def test_poison_event_goes_to_dead_letters_and_the_log_moves_on(sql_runtime: Runtime) -> None:
    recorder = Recorder("rec", always_fail={"bad"})
    bus = EventBus(sql_runtime.consumer_context, [recorder.spec({"bad", "good"})])
    await bus.start()
    ids = await write_events(sql_runtime, ["bad", "good"])
    await bus.wait_idle(within_seconds=5)
    await bus.stop()
    assert [e.id for e in recorder.seen] == [ids[1]]
    async with sql_runtime.sessionmaker() as session:
        from snsfeed.platform.bus.repository import BusRepository

        letters = await BusRepository(session).dead_letters("rec", include_replayed=False)
    assert [(d.event_id, d.attempts) for d in letters] == [(ids[0], 3)]
    assert "cannot handle bad" in letters[0].error


async def test_two_groups_each_receive_every_event(sql_runtime: Runtime) -> None:
    one, two = Recorder("one"), Recorder("two")
    bus = EventBus(sql_runtime.consumer_context, [one.spec({"a.x"}), two.spec({"a.x"})])
    await bus.start()
    ids = await write_events(sql_runtime, ["a.x", "a.x"])
    await bus.wait_idle(within_seconds=5)
    await bus.stop()
    assert [e.id for e in one.seen] == ids == [e.id for e in two.seen]


async def test_backlog_counts_unhandled_events(sql_runtime: Runtime) -> None:
    recorder = Recorder("rec")
    bus = EventBus(sql_runtime.consumer_context, [recorder.spec({"a.x"})])
    await write_events(sql_runtime, ["a.x", "a.x", "a.x"])
    assert await bus.backlog() == 3
    await bus.start()
    await wait_for(lambda: len(recorder.seen) == 3)
    await bus.wait_idle(within_seconds=5)
    assert await bus.backlog() == 0
    await bus.stop()


async def _insert_row(runtime: Runtime, seq: int, age_seconds: float) -> None:
    from datetime import timedelta

    from snsfeed.platform.ids import new_id
    from snsfeed.platform.outbox import OutboxEvent
    from snsfeed.platform.time import utcnow

    async with runtime.sessionmaker() as session:
        session.add(
            OutboxEvent(
                seq=seq,
                id=new_id(),
                type="a.x",
                version=1,
                occurred_at=utcnow() - timedelta(seconds=age_seconds),
                key="k",
                payload={},
            )
        )
        await session.commit()


async def test_consumer_waits_at_a_fresh_gap_in_the_log(sql_runtime: Runtime) -> None:
    # seq 1 is missing (its transaction may still commit): seq 2 must not be consumed yet.
    sql_runtime.settings.bus_gap_grace_seconds = 60
    recorder = Recorder("rec")
    bus = EventBus(sql_runtime.consumer_context, [recorder.spec({"a.x"})])
    await _insert_row(sql_runtime, seq=2, age_seconds=0)
    consumed = await SqlLogConsumer(
        sql_runtime.consumer_context, recorder.spec({"a.x"})
    ).process_batch()
    assert consumed == 0
    assert recorder.seen == []
    assert await bus.backlog() == 2


async def test_consumer_passes_a_gap_older_than_the_grace_period(sql_runtime: Runtime) -> None:
    sql_runtime.settings.bus_gap_grace_seconds = 5
    recorder = Recorder("rec")
    await _insert_row(sql_runtime, seq=2, age_seconds=30)
    consumed = await SqlLogConsumer(
        sql_runtime.consumer_context, recorder.spec({"a.x"})
    ).process_batch()
    assert consumed == 1
    assert len(recorder.seen) == 1


async def test_dead_letter_replay_runs_the_consumer_again_and_marks_it(
    sql_runtime: Runtime,
) -> None:
    from snsfeed.platform.bus.consumer import _registry, register_consumer
    from snsfeed.platform.bus.repository import BusRepository
    from snsfeed.worker import list_dead_letters, replay_dead_letters

    recorder = Recorder("replayable", always_fail={"bad"})
    register_consumer(recorder.spec({"bad"}))
    try:
        bus = EventBus(sql_runtime.consumer_context, [recorder.spec({"bad"})])
        await bus.start()
        ids = await write_events(sql_runtime, ["bad"])
        await bus.wait_idle(within_seconds=5)
        await bus.stop()
        letters = await list_dead_letters(sql_runtime.settings, "replayable", False)
        assert [d.event_id for d in letters] == ids

        recorder.always_fail.clear()  # the bug is fixed; replay
        outcomes = await replay_dead_letters(sql_runtime.settings, [letters[0].id])
        assert outcomes == [(str(letters[0].id), "replayed")]
        assert [e.id for e in recorder.seen] == ids
        async with sql_runtime.sessionmaker() as session:
            open_letters = await BusRepository(session).dead_letters("replayable", False)
        assert open_letters == []
    finally:
        _registry.pop("replayable", None)


async def test_replay_that_fails_again_leaves_the_dead_letter_open(sql_runtime: Runtime) -> None:
    from snsfeed.platform.bus.consumer import _registry, register_consumer
    from snsfeed.worker import list_dead_letters, replay_dead_letters

    recorder = Recorder("stubborn", always_fail={"bad"})
    register_consumer(recorder.spec({"bad"}))
    try:
        bus = EventBus(sql_runtime.consumer_context, [recorder.spec({"bad"})])
        await bus.start()
        await write_events(sql_runtime, ["bad"])
        await bus.wait_idle(within_seconds=5)
        await bus.stop()
        outcomes = await replay_dead_letters(sql_runtime.settings, None)
        assert len(outcomes) == 1 and outcomes[0][1].startswith("failed again")
        assert len(await list_dead_letters(sql_runtime.settings, "stubborn", False)) == 1
    finally:
        _registry.pop("stubborn", None)


async def test_stopping_finishes_the_event_in_flight(sql_runtime: Runtime) -> None:
    import asyncio

    from sqlalchemy.ext.asyncio import AsyncSession

    from snsfeed.platform.bus.consumer import ConsumerContext, ConsumerSpec
    from snsfeed.platform.bus.envelope import Event

    started = asyncio.Event()
    finished: list[Event] = []

    async def slow(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
        started.set()
        await asyncio.sleep(0.3)
        finished.append(event)

    spec = ConsumerSpec(name="slow", handler=slow, event_types=frozenset({"a.x"}))
    bus = EventBus(sql_runtime.consumer_context, [spec])
    await bus.start()
    ids = await write_events(sql_runtime, ["a.x"])
    await asyncio.wait_for(started.wait(), timeout=5)
    await bus.stop(grace_seconds=5)
    assert [e.id for e in finished] == ids
    assert await bus.backlog() == 0  # its offset was committed before the process stopped


async def test_a_slow_handler_does_not_hold_up_other_writers_on_sqlite(
    sql_runtime: Runtime,
) -> None:
    # The media transcoder runs inside a handler for seconds or minutes; meanwhile the
    # API must still be able to write (SQLite has one writer at a time).
    import asyncio

    from sqlalchemy.ext.asyncio import AsyncSession

    from snsfeed.platform.bus.consumer import ConsumerContext, ConsumerSpec
    from snsfeed.platform.bus.envelope import Event

    entered, release = asyncio.Event(), asyncio.Event()
    handled: list[str] = []

    async def slow(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
        if event.type == "a.slow":
            entered.set()
            await release.wait()
        handled.append(event.type)

    spec = ConsumerSpec(name="slowpoke", handler=slow, event_types=frozenset({"a.x", "a.slow"}))
    bus = EventBus(sql_runtime.consumer_context, [spec])
    await bus.start()
    try:
        await write_events(sql_runtime, ["a.x"])  # the group's offset row exists from here on
        await wait_for(lambda: handled == ["a.x"])
        await write_events(sql_runtime, ["a.slow"])
        await asyncio.wait_for(entered.wait(), timeout=5)
        # Without the fix this waits for SQLite's busy timeout and fails "database is locked".
        await asyncio.wait_for(write_events(sql_runtime, ["b.other"]), timeout=2)
        release.set()
        await wait_for(lambda: handled == ["a.x", "a.slow"])
    finally:
        release.set()
        await bus.stop(grace_seconds=5)
