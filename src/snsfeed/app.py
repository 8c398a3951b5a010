"""FastAPI application factory: routers, middleware, lifespan."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.middleware import Middleware
from starlette.types import ASGIApp

from snsfeed import __version__
from snsfeed.config import Settings
from snsfeed.content.api import router as content_router
from snsfeed.engagement.api import router as engagement_router
from snsfeed.feed.api import router as feed_router
from snsfeed.feed.fastpath import FeedFastPath
from snsfeed.feed.timelines import timeline_store
from snsfeed.graph.api import router as graph_router
from snsfeed.media.api import MediaFiles
from snsfeed.media.api import router as media_router
from snsfeed.media.storage import LOCAL_URL_PREFIX, LocalStorage, create_storage
from snsfeed.notifications.api import router as notifications_router
from snsfeed.platform import keywatch
from snsfeed.platform.bodylimit import BodySizeLimitMiddleware
from snsfeed.platform.errors import install_error_handlers
from snsfeed.platform.keywatch import KeyWatch, TrackedReader
from snsfeed.platform.logging import configure_logging
from snsfeed.platform.ratelimit import RateLimitMiddleware, make_storage
from snsfeed.platform.redis import create_redis
from snsfeed.platform.security import TokenSigner, load_signing_key, make_password_hasher
from snsfeed.realtime.api import router as realtime_router
from snsfeed.realtime.hub import RealtimeHub
from snsfeed.runtime import start_runtime, stop_runtime
from snsfeed.users.api import router as users_router
from snsfeed.users.auth_api import router as auth_router

log = structlog.get_logger("snsfeed.app")

# Seconds one Redis call of the feed's read path may take before the feed answers from SQL.
FEED_REDIS_CALL_TIMEOUT = 1.0

DESCRIPTION = """
An open SNS feed backend: accounts, follow graph, posts, likes/comments/shares and a
personalised home feed. Authenticate with `POST /api/v1/auth/token`
(`grant_type=password`) and send `Authorization: Bearer <access_token>`.

Errors share one shape: `{"error": {"code", "message", "details"}}` (the OAuth2 endpoints
keep RFC 6749's `{"error", "error_description"}`).
"""


class EdgeFastAPI(FastAPI):
    """FastAPI with ``edge_middleware`` in front of its whole stack, not inside it.

    The feed's fast path answers the most frequent request below the framework; inside
    FastAPI's stack it paid on every request for layers it has no use for (the error and
    telemetry wrappers, FastAPI's and our body limits). Rate limiting stays in front of it.
    """

    edge_middleware: list[Middleware]

    def build_middleware_stack(self) -> ASGIApp:
        app = super().build_middleware_stack()
        for cls, args, kwargs in reversed(getattr(self, "edge_middleware", [])):
            app = cls(app, *args, **kwargs)
        return app


_frozen = False


def _freeze_startup_objects() -> None:
    """Keep what start-up loaded out of the collector's way (shorter full collections).

    Once per process: a process that starts several apps (the tests) must not freeze each
    one's garbage for good.
    """
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


@asynccontextmanager
async def _tracked_reads(settings: Settings) -> AsyncIterator[TrackedReader | None]:
    """This process's key watch and a reader for it, while the app runs (see ``keywatch``).

    The watch is installed as the process's own, so that timeline writes made here (the
    consumers' store) reach it at once; the one installed before comes back afterwards.
    """
    url = settings.redis_url
    if not url:
        yield None
        return
    if not TrackedReader.supports(url):
        log.warning("feed_reads_not_remembered", reason="client tracking needs a redis:// URL")
        yield None
        return
    previous, watch = keywatch.current(), KeyWatch(url)
    keywatch.install(watch)
    watch.start()
    tracked = TrackedReader(url, watch)
    try:
        yield tracked
    finally:
        await tracked.aclose()
        await watch.stop()
        if keywatch.current() is watch:
            keywatch.install(previous)


def create_app(settings: Settings | None = None, *, run_migrations: bool | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level)
    migrate_on_start = settings.embedded if run_migrations is None else run_migrations

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await start_runtime(
            settings,
            migrate=migrate_on_start,
            run_consumers=settings.runs_consumers_in_api,
            relay=True,
        )
        app.state.runtime = runtime
        app.state.engine = runtime.engine
        app.state.sessionmaker = runtime.sessionmaker
        app.state.redis = runtime.redis
        # The feed's reads get a client of their own that bounds each call itself
        # (cheaper per command than redis-py's socket timeout), and page reads that Redis
        # tracks, so a page nothing has changed is answered without a round trip.
        feed_redis = create_redis(settings, socket_timeout=None, retry_dead=True)
        async with _tracked_reads(settings) as tracked:
            app.state.timeline_store = timeline_store(
                settings, feed_redis, call_timeout=FEED_REDIS_CALL_TIMEOUT, tracked=tracked
            )
            app.state.realtime = RealtimeHub(settings, runtime.redis)
            await app.state.realtime.start()
            _freeze_startup_objects()
            try:
                yield
            finally:
                await app.state.realtime.stop()
        if feed_redis is not None:
            await feed_redis.aclose()
        await stop_runtime(runtime)

    app = EdgeFastAPI(
        title="snsfeed",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    # Key and hasher load eagerly so a missing production key fails at start-up, loudly.
    app.state.signer = TokenSigner(load_signing_key(settings), settings)
    app.state.password_hasher = make_password_hasher(settings)

    install_error_handlers(app)
    app.edge_middleware = [
        Middleware(RateLimitMiddleware, settings=settings, storage=make_storage(settings)),
        Middleware(FeedFastPath),
    ]
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        overrides={"/api/v1/media": settings.media_max_upload_bytes},
    )
    app.state.media_storage = storage = create_storage(settings)
    if isinstance(storage, LocalStorage):
        app.mount(
            LOCAL_URL_PREFIX.rstrip("/"),
            MediaFiles(directory=storage.root, check_dir=False),
            name="media-files",
        )

    for router in (
        auth_router,
        users_router,
        graph_router,
        content_router,
        engagement_router,
        feed_router,
        realtime_router,
        media_router,
        notifications_router,
    ):
        app.include_router(router)

    @app.get("/health", tags=["ops"], summary="Liveness")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__}

    @app.get("/ready", tags=["ops"], summary="Readiness: the database answers")
    async def ready() -> JSONResponse:
        try:
            async with app.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            return JSONResponse(
                {"status": "unavailable", "checks": {"database": f"error: {type(exc).__name__}"}},
                status_code=503,
            )
        return JSONResponse({"status": "ok", "checks": {"database": "ok"}})

    return app
