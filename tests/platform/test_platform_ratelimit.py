"""Per-caller rate limits: anonymous callers per IP, authenticated users per account.

Each test builds its own small app (anonymous budget 3/min), once with the in-process
storage and once with Redis, so both adapters are exercised. Every test uses its own
client IP, so budgets never leak between tests or runs (Redis keys outlive the test).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI

from snsfeed.app import create_app
from snsfeed.platform.ratelimit import RateLimitMiddleware
from tests.conftest import base_settings, service_unavailable
from tests.helpers import Api

REDIS_URL = "redis://127.0.0.1:6379/0"
ANON_LIMIT = 3
USER_LIMIT = 5


@pytest.fixture(params=["memory", "redis"])
async def limited_app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[FastAPI]:
    overrides: dict[str, object] = {
        "rate_limit_anonymous_per_minute": ANON_LIMIT,
        "rate_limit_authenticated_per_minute": USER_LIMIT,
    }
    if request.param == "redis":
        probe = aioredis.from_url(REDIS_URL)
        try:
            await probe.ping()
        except (OSError, aioredis.RedisError):
            service_unavailable("Redis")
        finally:
            await probe.aclose()
        overrides["redis_url"] = REDIS_URL
    application = create_app(base_settings(tmp_path, **overrides))
    async with application.router.lifespan_context(application):
        yield application


def random_ip() -> str:
    return "10." + ".".join(str(b) for b in secrets.token_bytes(3))


@pytest.fixture
async def limited_client(limited_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=limited_app, client=(random_ip(), 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def client_from(app: FastAPI, ip: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def assert_rate_limited(r: httpx.Response, limit: int) -> None:
    assert r.status_code == 429, r.text
    assert int(r.headers["Retry-After"]) >= 1
    assert r.headers["X-RateLimit-Limit"] == str(limit)
    error = r.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["details"]["limit"] == limit


async def test_fourth_anonymous_request_is_429(limited_client: httpx.AsyncClient) -> None:
    statuses = [(await limited_client.get("/api/v1/users/me")).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    assert_rate_limited(await limited_client.get("/api/v1/users/me"), ANON_LIMIT)


async def test_each_ip_has_its_own_anonymous_budget(limited_app: FastAPI) -> None:
    async with client_from(limited_app, random_ip()) as first:
        for _ in range(ANON_LIMIT):
            await first.get("/api/v1/users/me")
        assert (await first.get("/api/v1/users/me")).status_code == 429
    async with client_from(limited_app, random_ip()) as second:
        assert (await second.get("/api/v1/users/me")).status_code == 401


async def test_authenticated_user_has_its_own_budget(limited_client: httpx.AsyncClient) -> None:
    api = Api(limited_client)
    alice = await api.register()  # two anonymous requests: register and log in
    await limited_client.get("/api/v1/users/me")
    assert (await limited_client.get("/api/v1/users/me")).status_code == 429
    me = await limited_client.get("/api/v1/users/me", headers=alice.headers)
    assert me.status_code == 200, me.text


# Once warm, the feed is answered in front of the framework; rate limiting comes first.
@pytest.mark.parametrize("path", ["/api/v1/users/me", "/api/v1/feed"])
async def test_authenticated_budget_is_enforced(
    limited_client: httpx.AsyncClient, path: str
) -> None:
    alice = await Api(limited_client).register()
    statuses = [
        (await limited_client.get(path, headers=alice.headers)).status_code
        for _ in range(USER_LIMIT)
    ]
    assert statuses == [200] * USER_LIMIT
    r = await limited_client.get(path, headers=alice.headers)
    assert_rate_limited(r, USER_LIMIT)


async def test_forged_bearer_token_counts_as_anonymous(limited_client: httpx.AsyncClient) -> None:
    for _ in range(ANON_LIMIT):
        await limited_client.get("/api/v1/users/me")
    r = await limited_client.get("/api/v1/users/me", headers={"Authorization": "Bearer forged"})
    assert_rate_limited(r, ANON_LIMIT)


async def test_health_and_jwks_are_not_rate_limited(limited_client: httpx.AsyncClient) -> None:
    for _ in range(ANON_LIMIT + 2):
        assert (await limited_client.get("/health")).status_code == 200
        assert (await limited_client.get("/.well-known/jwks.json")).status_code == 200
    assert (await limited_client.get("/api/v1/users/me")).status_code == 401


async def test_unreachable_redis_fails_open(tmp_path: Path) -> None:
    settings = base_settings(
        tmp_path, rate_limit_anonymous_per_minute=1, redis_url="redis://127.0.0.1:1/0"
    )
    application = create_app(settings)
    async with (
        application.router.lifespan_context(application),
        client_from(application, random_ip()) as c,
    ):
        statuses = [(await c.get("/api/v1/users/me")).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]


async def test_a_fault_in_the_limiter_fails_open(
    limited_app: FastAPI, limited_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rate limiting runs in front of the app's error handling: a bug there must not
    # turn every request into a bare 500.
    async def broken(*_: object) -> bool:
        raise RuntimeError("a bug in the limiter")

    await limited_client.get("/health")  # builds the middleware stack
    limiter = limited_app.middleware_stack
    while not isinstance(limiter, RateLimitMiddleware):
        limiter = limiter.app  # type: ignore[union-attr]
    monkeypatch.setattr(limiter.limiter, "hit", broken)
    r = await limited_client.get("/api/v1/feed")
    assert r.status_code == 401  # answered by the app, not refused by the limiter
