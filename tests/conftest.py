"""Test profiles: every API test runs on ``embedded`` (SQLite) and ``services`` (PostgreSQL).

The services profile creates a throw-away database per run. When PostgreSQL is not
reachable it skips, unless ``SNSFEED_REQUIRE_SERVICES=1`` (CI), where it fails.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from snsfeed.app import create_app
from snsfeed.config import Settings
from snsfeed.models import Base
from snsfeed.platform.migrations import upgrade_to_head
from snsfeed.platform.security import write_new_key
from tests.helpers import Api

PG_ADMIN_DSN = os.environ.get("SNSFEED_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_SERVICES = os.environ.get("SNSFEED_REQUIRE_SERVICES") == "1"


def service_unavailable(what: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (SNSFEED_REQUIRE_SERVICES=1) but not reachable")
    pytest.skip(f"{what} not reachable on 127.0.0.1")


def base_settings(tmp: Path, **overrides: object) -> Settings:
    key = tmp / "jwt.pem"
    if not key.exists():
        write_new_key(key)
    values: dict[str, object] = {
        "data_dir": tmp,
        "jwt_key_file": key,
        # Cheap hashing keeps the suite fast; production uses the RFC 9106 defaults.
        "argon2_time_cost": 1,
        "argon2_memory_cost_kib": 1024,
        "rate_limit_authenticated_per_minute": 1_000_000,
        "rate_limit_anonymous_per_minute": 1_000_000,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
async def pg_database_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for this test run, dropped at the end."""
    try:
        admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        service_unavailable("PostgreSQL")
    name = f"snsfeed_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    url = f"{base}/{name}"
    await asyncio.to_thread(upgrade_to_head, url)
    try:
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
async def embedded_app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FastAPI]:
    application = create_app(base_settings(tmp_path_factory.mktemp("embedded")))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def services_app(
    pg_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FastAPI]:
    settings = base_settings(tmp_path_factory.mktemp("services"), database_url=pg_database_url)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


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


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    await truncate_all(app.state.engine)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def api(client: httpx.AsyncClient) -> Api:
    return Api(client)


@pytest.fixture
def profile(app: FastAPI) -> str:
    return "embedded" if app.state.settings.embedded else "services"
