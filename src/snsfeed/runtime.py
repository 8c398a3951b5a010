"""Process resources shared by the API and workers: database, Redis, event bus."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from snsfeed.config import Settings
from snsfeed.platform import cache
from snsfeed.platform.bus.consumer import ConsumerContext, runnable_consumers
from snsfeed.platform.bus.runner import EventBus
from snsfeed.platform.db import create_engine, create_sessionmaker
from snsfeed.platform.migrations import upgrade_to_head
from snsfeed.platform.redis import create_redis


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Any
    bus: EventBus | None
    near_cache: cache.NearCache

    @property
    def consumer_context(self) -> ConsumerContext:
        return ConsumerContext(self.settings, self.sessionmaker, self.redis)


async def start_runtime(
    settings: Settings,
    *,
    migrate: bool = False,
    consumers: list[str] | None = None,
    run_consumers: bool = False,
    relay: bool = True,
) -> Runtime:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if migrate:
        await asyncio.to_thread(upgrade_to_head, settings.resolved_database_url)
    engine = create_engine(settings.resolved_database_url, echo=settings.sql_echo)
    redis = create_redis(settings)
    near = cache.NearCache(
        redis,
        l1_ttl_seconds=settings.cache_l1_ttl_seconds,
        l1_size=settings.cache_l1_size,
        l2_ttl_seconds=settings.cache_l2_ttl_seconds,
    )
    runtime = Runtime(settings, engine, create_sessionmaker(engine), redis, None, near)
    cache.install(near)
    near.start_listener()
    specs = runnable_consumers(settings, consumers) if run_consumers else []
    if specs or (relay and settings.broker_url):
        runtime.bus = EventBus(runtime.consumer_context, specs, relay=relay)
        await runtime.bus.start()
    return runtime


async def stop_runtime(runtime: Runtime) -> None:
    if runtime.bus is not None:
        await runtime.bus.stop()
    await runtime.near_cache.stop_listener()
    if cache.current() is runtime.near_cache:
        cache.install(cache.NearCache())
    if runtime.redis is not None:
        await runtime.redis.aclose()
    await runtime.engine.dispose()
