"""Test profiles: every API test runs on ``embedded`` and on ``services``.

embedded: SQLite, the outbox-log bus in-process, feeds pulled from SQL.
services: PostgreSQL (a throw-away database per run), Redis timelines and the NATS
JetStream bus with the consumers running in-process. When a server is not reachable
the profile skips, unless ``SNSFEED_REQUIRE_SERVICES=1`` (CI), where it fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from snsfeed.app import create_app
from snsfeed.config import Settings
from snsfeed.models import Base
from snsfeed.platform import cache, keywatch
from snsfeed.platform.migrations import upgrade_to_head
from snsfeed.platform.security import write_new_key
from tests.helpers import Api

PG_ADMIN_DSN = os.environ.get("SNSFEED_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_SERVICES = os.environ.get("SNSFEED_REQUIRE_SERVICES") == "1"
# The app's Redis database index; other Redis tests use their own indexes.
REDIS_APP_URL = os.environ.get("SNSFEED_TEST_REDIS_APP_URL", "redis://127.0.0.1:6379/12")
NATS_URL = os.environ.get("SNSFEED_TEST_NATS_URL", "nats://127.0.0.1:4222")
# A scratch Redis database for tests that use Redis directly (flushed around each test).
REDIS_TEST_URL = os.environ.get("SNSFEED_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def service_unavailable(what: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (SNSFEED_REQUIRE_SERVICES=1) but not reachable")
    pytest.skip(f"{what} not reachable on 127.0.0.1")


def base_settings(tmp: Path, **overrides: object) -> Settings:
    key = tmp / "jwt.pem"
    if not key.exists():
        write_new_key(key)
    vapid = tmp / "vapid.pem"
    if not vapid.exists():
        write_new_key(vapid)
    values: dict[str, object] = {
        "data_dir": tmp,
        "jwt_key_file": key,
        "vapid_private_key_file": vapid,
        # Local receivers speak plain http on loopback.
        "push_allow_insecure_endpoints": True,
        # Cheap hashing keeps the suite fast; production uses the RFC 9106 defaults.
        "argon2_time_cost": 1,
        "argon2_memory_cost_kib": 1024,
        "rate_limit_authenticated_per_minute": 1_000_000,
        "rate_limit_anonymous_per_minute": 1_000_000,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@asynccontextmanager
async def temporary_database() -> AsyncIterator[str]:
    """A fresh, migrated PostgreSQL database, dropped afterwards."""
    try:
        admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        service_unavailable("PostgreSQL")
    name = f"snsfeed_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    url = f"{base}/{name}"
    try:
        await asyncio.to_thread(upgrade_to_head, url)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
async def pg_database_url() -> AsyncIterator[str]:
    """A PostgreSQL database for tests that manage their own app or runtime."""
    async with temporary_database() as url:
        yield url


async def require_redis() -> None:
    client = aioredis.Redis.from_url(REDIS_APP_URL, socket_connect_timeout=1)
    try:
        await client.ping()
    except (aioredis.ConnectionError, OSError):
        service_unavailable("Redis")
    finally:
        await client.aclose()


def require_nats() -> None:
    host, _, port = NATS_URL.removeprefix("nats://").partition(":")
    try:
        with socket.create_connection((host, int(port or 4222)), timeout=1):
            return
    except OSError:
        service_unavailable("NATS")


@pytest.fixture(scope="session")
async def embedded_app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FastAPI]:
    application = create_app(base_settings(tmp_path_factory.mktemp("embedded")))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def services_app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FastAPI]:
    """PostgreSQL + Redis timelines + the JetStream bus, consumers running in-process."""
    await require_redis()
    require_nats()
    stream = f"SNSFEED_TEST_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    async with temporary_database() as url:
        settings = base_settings(
            tmp_path_factory.mktemp("services"),
            database_url=url,
            redis_url=REDIS_APP_URL,
            broker_url=NATS_URL,
            nats_stream=stream,
            nats_subject_prefix=f"{stream.lower()}.events",
            api_consumers=True,
            bus_poll_interval_seconds=0.02,
            bus_retry_delays_seconds=(0.05, 0.2),
        )
        application = create_app(settings)
        try:
            async with application.router.lifespan_context(application):
                yield application
        finally:
            await _drop_stream(stream)


async def _drop_stream(stream: str) -> None:
    import nats

    nc = await nats.connect(NATS_URL)
    with contextlib.suppress(Exception):
        await nc.jetstream().delete_stream(stream)
    await nc.close()


@pytest.fixture(scope="session", params=["embedded", "services"])
def app(request: pytest.FixtureRequest) -> FastAPI:
    """The app under test, once per profile; async fixtures are resolved outside the loop."""
    application: FastAPI = request.getfixturevalue(f"{request.param}_app")
    return application


async def truncate_all(engine: AsyncEngine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await conn.execute(text(f"DELETE FROM {table}"))


class SettledTransport(httpx.ASGITransport):
    """Reads the feed and notifications only once the event bus has caught up.

    Timelines in Redis and notifications are eventually consistent; API tests assert the
    converged state, so these reads wait until every event written so far has been handled.
    """

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        runtime = self.app.state.runtime  # type: ignore[attr-defined]
        settled = ("/api/v1/feed", "/api/v1/notifications")
        if runtime.bus is not None and request.url.path.startswith(settled):
            await runtime.bus.wait_idle(within_seconds=30)
        return await super().handle_async_request(request)


async def reset_state(app: FastAPI) -> None:
    runtime = app.state.runtime
    if runtime.bus is not None:
        await runtime.bus.wait_idle(within_seconds=30)
    await truncate_all(app.state.engine)
    if runtime.redis is not None:
        await runtime.redis.flushdb()
    # Both profiles' apps live in this process; the near cache is per process, so the
    # test's app gets its own, empty.
    cache.install(runtime.near_cache)
    runtime.near_cache.clear_local()
    # Timeline reads remembered before the flush are void; Redis says so too, but later.
    keywatch.current().forget_all()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    await reset_state(app)
    transport = SettledTransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def services_client(services_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the services profile only, for tests that exist only there."""
    await reset_state(services_app)
    transport = SettledTransport(app=services_app, client=("203.0.113.8", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def api(client: httpx.AsyncClient) -> Api:
    return Api(client)


@pytest.fixture
def profile(app: FastAPI) -> str:
    return "embedded" if app.state.settings.embedded else "services"


@pytest.fixture
async def redis_client() -> AsyncIterator[Any]:
    """A client on the scratch Redis database, empty at the start and end of the test."""
    client = aioredis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1)
    try:
        await client.ping()
    except (aioredis.ConnectionError, OSError):
        await client.aclose()
        service_unavailable("Redis")
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()
