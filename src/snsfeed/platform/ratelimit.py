"""Per-caller request limits (spec: 1000/min per user, 100/min per IP for anonymous callers).

Uses the ``limits`` library: in-process storage by default, Redis when configured, so
every API node shares one budget per caller.
"""

from __future__ import annotations

import math
import time

import structlog
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from starlette.types import ASGIApp, Receive, Scope, Send

from snsfeed.config import Settings
from snsfeed.platform.errors import error_response
from snsfeed.platform.security import TokenSigner

_EXEMPT_PREFIXES = ("/health", "/ready", "/docs", "/openapi.json", "/redoc", "/.well-known")


_log = structlog.get_logger("snsfeed.ratelimit")


def make_storage(settings: Settings) -> Storage:
    if settings.redis_url:
        # redis-py is our Redis client already; limits' default async client (coredis) is not
        # installed. Wrapped exceptions let the middleware tell an outage from a bug.
        return RedisStorage(
            f"async+{settings.redis_url}",
            implementation="redispy",
            key_prefix="snsfeed:ratelimit",
            wrap_exceptions=True,
        )
    return MemoryStorage()


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings, storage: Storage) -> None:
        self.app = app
        self.enabled = settings.rate_limit_enabled
        self.user_limit = RateLimitItemPerMinute(settings.rate_limit_authenticated_per_minute)
        self.anon_limit = RateLimitItemPerMinute(settings.rate_limit_anonymous_per_minute)
        self.limiter = SlidingWindowCounterRateLimiter(storage)

    def _caller(self, scope: Scope) -> tuple[str, bool]:
        signer: TokenSigner | None = getattr(scope["app"].state, "signer", None)
        for name, value in scope.get("headers", ()):
            if name == b"authorization" and signer is not None:
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer":
                    claims = signer.verify(token.strip())
                    if claims is not None:
                        return f"user:{claims['sub']}", True
        client = scope.get("client")
        return f"ip:{client[0] if client else 'unknown'}", False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            not self.enabled
            or scope["type"] != "http"
            or scope["path"].startswith(_EXEMPT_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        try:
            key, authenticated = self._caller(scope)
            item = self.user_limit if authenticated else self.anon_limit
            retry_after = await self._retry_after(item, key)
        except Exception as exc:
            # This layer runs in front of the app's error handling (``app.EdgeFastAPI``):
            # a fault of its own fails open, like a storage outage, rather than a bare 500.
            _log.error("rate_limit_failed", error=repr(exc), exc_info=True)
            retry_after = None
        if retry_after is not None:
            response = error_response(
                429,
                "rate_limited",
                f"Too many requests: limit is {item.amount} per minute",
                {"limit": item.amount, "retry_after_seconds": retry_after},
                headers={"Retry-After": str(retry_after), "X-RateLimit-Limit": str(item.amount)},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _retry_after(self, item: RateLimitItem, key: str) -> int | None:
        """Count one hit; None when allowed, else the seconds until the caller may retry."""
        try:
            if await self.limiter.hit(item, key):
                return None
            stats = await self.limiter.get_window_stats(item, key)
        except StorageError as exc:
            # Fail open: a Redis outage must not take the whole API down with it.
            _log.warning("rate_limit_storage_unavailable", error=repr(exc.storage_error))
            return None
        return max(1, math.ceil(stats.reset_time - time.time()))
