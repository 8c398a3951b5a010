"""Consumer groups: what each handles, and the context a handler runs in."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from snsfeed.config import Settings
from snsfeed.platform.bus.envelope import Event


@dataclass
class ConsumerContext:
    """Shared resources of a consumer process (one per process, not per event)."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Any = None  # redis.asyncio.Redis when configured
    extras: dict[str, Any] = field(default_factory=dict)


# A handler runs inside the runner's unit of work: it may use the session (the runner
# commits it together with the consumer's offset) and must be idempotent, since any
# event can arrive more than once.
Handler = Callable[[AsyncSession, Event, ConsumerContext], Awaitable[None]]
# A group may instead be a loop over a table of its own (e.g. due notification deliveries):
# it runs in every process that runs the group, until ``stopping`` is set.
Loop = Callable[[ConsumerContext, asyncio.Event], Awaitable[None]]


async def _no_events(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    raise RuntimeError(f"a loop group received event {event.type}")


@dataclass(frozen=True)
class ConsumerSpec:
    name: str
    handler: Handler
    event_types: frozenset[str]
    needs_redis: bool = False
    description: str = ""
    loop: Loop | None = None

    def wants(self, event_type: str) -> bool:
        return event_type in self.event_types


log = structlog.get_logger("snsfeed.bus")

_registry: dict[str, ConsumerSpec] = {}


def loop_spec(name: str, loop: Loop, description: str = "") -> ConsumerSpec:
    """A group that runs ``loop`` instead of consuming events."""
    return ConsumerSpec(name, _no_events, frozenset(), description=description, loop=loop)


def periodic_spec(
    name: str,
    work: Callable[[ConsumerContext], Awaitable[int]],
    *,
    interval: Callable[[Settings], float],
    description: str = "",
) -> ConsumerSpec:
    """A loop group doing ``work`` at once and then every ``interval(settings)`` seconds.

    ``work`` returns how much it did (logged when not 0). A failed pass is logged and
    tried again at the next interval: housekeeping never ends the process.
    """

    async def run(ctx: ConsumerContext, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                done = await work(ctx)
                if done:
                    log.info("periodic_work_done", group=name, count=done)
            except Exception as exc:
                log.warning("periodic_work_failed", group=name, error=repr(exc))
            await sleep_or_stop(stopping, interval(ctx.settings))

    return loop_spec(name, run, description)


def register_consumer(spec: ConsumerSpec) -> ConsumerSpec:
    _registry[spec.name] = spec
    return spec


def registered_consumers() -> dict[str, ConsumerSpec]:
    _load_all_consumers()
    return dict(_registry)


def runnable_consumers(settings: Settings, names: list[str] | None = None) -> list[ConsumerSpec]:
    """Consumers whose backends are configured, optionally limited to ``names``."""
    specs = registered_consumers()
    if names:
        unknown = sorted(set(names) - set(specs))
        if unknown:
            raise ValueError(
                f"unknown consumer(s): {', '.join(unknown)}; known: {', '.join(specs)}"
            )
        chosen = [specs[n] for n in names]
    else:
        chosen = list(specs.values())
    return [s for s in chosen if settings.redis_url or not s.needs_redis]


def _load_all_consumers() -> None:
    # Importing a context's consumers module registers its consumer groups.
    import snsfeed.feed.consumers
    import snsfeed.media.consumers
    import snsfeed.notifications.consumers
    import snsfeed.platform.bus.prune
    import snsfeed.realtime.consumers  # noqa: F401


async def sleep_or_stop(stopping: asyncio.Event, seconds: float) -> None:
    """Sleep, but wake up at once when the process is asked to stop."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), timeout=seconds)
