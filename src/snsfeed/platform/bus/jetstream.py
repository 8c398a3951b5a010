"""NATS JetStream backend: outbox relay, durable pull consumers, dead letters."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import nats
import structlog
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from snsfeed.config import Settings
from snsfeed.platform.bus.consumer import ConsumerContext, ConsumerSpec, sleep_or_stop
from snsfeed.platform.bus.envelope import Event
from snsfeed.platform.bus.repository import BusRepository
from snsfeed.platform.bus.retry import delay_after
from snsfeed.platform.bus.sqllog import dead_letter
from snsfeed.platform.time import utcnow

log = structlog.get_logger("snsfeed.bus")

DLQ_STREAM = "SNSFEED_DLQ"
DLQ_PREFIX = "snsfeed.dlq"
RELAY_BATCH = 200


async def connect(settings: Settings) -> Any:
    """Connect, retrying forever in the background once connected (reconnects are automatic)."""
    assert settings.broker_url
    return await nats.connect(
        settings.broker_url,
        name="snsfeed",
        allow_reconnect=True,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=2,
    )


async def ensure_streams(js: JetStreamContext, settings: Settings) -> None:
    events = StreamConfig(
        name=settings.nats_stream,
        subjects=[f"{settings.nats_subject_prefix}.>"],
        storage=StorageType.FILE,
        duplicate_window=120.0,
        max_age=7 * 24 * 3600.0,
    )
    dlq = StreamConfig(name=DLQ_STREAM, subjects=[f"{DLQ_PREFIX}.>"], storage=StorageType.FILE)
    for name, config in ((settings.nats_stream, events), (DLQ_STREAM, dlq)):
        try:
            await js.stream_info(name)
            await js.update_stream(config)
        except NotFoundError:
            await js.add_stream(config)


def durable_name(spec: ConsumerSpec) -> str:
    return f"snsfeed-{spec.name}"


class Relay:
    """Publishes outbox rows in order; the event id is the JetStream message id (dedup)."""

    def __init__(self, ctx: ConsumerContext, js: JetStreamContext) -> None:
        self.ctx = ctx
        self.js = js
        self.subject_prefix = ctx.settings.nats_subject_prefix

    async def run(self, stopping: asyncio.Event) -> None:
        backoff = 0.0
        while not stopping.is_set():
            try:
                published = await self.publish_batch()
                backoff = 0.0
            except Exception as exc:  # broker or database away: events wait in the outbox
                backoff = min(max(backoff * 2, 0.2), 5.0)
                log.warning("relay_failed", error=repr(exc), retry_in=backoff)
                published = 0
            wait = backoff or (0 if published else self.ctx.settings.bus_poll_interval_seconds)
            if wait:
                await sleep_or_stop(stopping, wait)

    async def publish_batch(self) -> int:
        async with self.ctx.sessionmaker() as session:
            repo = BusRepository(session)
            rows = await repo.unpublished(RELAY_BATCH)
            if not rows:
                return 0
            for row in rows:
                event = Event.from_outbox(row)
                await self.js.publish(
                    f"{self.subject_prefix}.{event.type}",
                    event.to_json(),
                    timeout=2.0,
                    headers={"Nats-Msg-Id": str(event.id)},
                )
            await repo.mark_published([r.seq for r in rows], utcnow())
            await session.commit()
            return len(rows)


class JetStreamConsumer:
    def __init__(self, ctx: ConsumerContext, spec: ConsumerSpec, js: JetStreamContext) -> None:
        self.ctx = ctx
        self.spec = spec
        self.js = js
        self.fetch_batch = 64

    async def subscribe(self) -> Any:
        settings = self.ctx.settings
        config = ConsumerConfig(
            durable_name=durable_name(self.spec),
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=settings.bus_ack_wait_seconds,
            max_ack_pending=10_000,
        )
        return await self.js.pull_subscribe(
            f"{settings.nats_subject_prefix}.>",
            durable=durable_name(self.spec),
            stream=settings.nats_stream,
            config=config,
        )

    async def run(self, stopping: asyncio.Event) -> None:
        sub = None
        while not stopping.is_set():
            try:
                if sub is None:
                    sub = await self.subscribe()
                try:
                    msgs = await sub.fetch(batch=self.fetch_batch, timeout=1.0)
                except (TimeoutError, nats.errors.TimeoutError):
                    continue
                for msg in msgs:
                    # In-flight work finishes even when asked to stop; unfetched work stays queued.
                    await self.process(msg)
            except Exception as exc:
                log.warning("consumer_fetch_failed", consumer=self.spec.name, error=repr(exc))
                sub = None
                await sleep_or_stop(stopping, 1.0)
        if sub is not None:
            with contextlib.suppress(Exception):  # already gone with the connection
                await sub.unsubscribe()

    async def process(self, msg: Any) -> None:
        event = Event.from_json(msg.data)
        log.debug("event_received", consumer=self.spec.name, type=event.type, id=str(event.id))
        if not self.spec.wants(event.type):
            await msg.ack()
            return
        attempt = int(msg.metadata.num_delivered)
        heartbeat = asyncio.create_task(self._keep_alive(msg))
        try:
            async with self.ctx.sessionmaker() as session:
                await self.spec.handler(session, event, self.ctx)
                await session.commit()
        except Exception as exc:
            if attempt < self.ctx.settings.bus_max_attempts:
                log.warning(
                    "consumer_retry",
                    consumer=self.spec.name,
                    event_id=str(event.id),
                    attempt=attempt,
                    error=repr(exc),
                )
                await msg.nak(
                    delay=delay_after(attempt, self.ctx.settings.bus_retry_delays_seconds)
                )
                return
            await self.dead_letter(event, exc, attempt)
        finally:
            heartbeat.cancel()
        await msg.ack()

    async def _keep_alive(self, msg: Any) -> None:
        """Tell JetStream the message is still being worked on, so a slow handler (a video
        transcode) is not redelivered to another worker; a crashed one stops telling."""
        interval = max(0.5, self.ctx.settings.bus_ack_wait_seconds / 3)
        while True:
            await asyncio.sleep(interval)
            with contextlib.suppress(Exception):
                await msg.in_progress()

    async def dead_letter(self, event: Event, exc: BaseException, attempts: int) -> None:
        log.error("consumer_dead_letter", consumer=self.spec.name, event_id=str(event.id))
        async with self.ctx.sessionmaker() as session:
            BusRepository(session).add_dead_letter(
                dead_letter(self.spec.name, event, exc, attempts)
            )
            await session.commit()
        # Also on the dead-letter subject, for whoever watches the broker.
        await self.js.publish(
            f"{DLQ_PREFIX}.{self.spec.name}",
            event.to_json(),
            headers={
                "Nats-Msg-Id": f"{self.spec.name}:{event.id}",
                "Snsfeed-Error": repr(exc)[:500],
            },
        )


async def pending(js: JetStreamContext, stream: str, specs: list[ConsumerSpec]) -> int:
    """Messages not yet acknowledged by the given consumer groups."""
    total = 0
    for spec in specs:
        try:
            info = await js.consumer_info(stream, durable_name(spec))
        except NotFoundError:
            continue
        total += int(info.num_pending or 0) + int(info.num_ack_pending or 0)
    return total
