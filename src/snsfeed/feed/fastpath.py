"""The home feed's hot path: ``GET /api/v1/feed`` served below the framework.

The feed is the most read endpoint by far, and on a warm path everything it needs
is already in memory or one Redis round trip away: the principal, the reader's graph
facts, post documents and author summaries (the near cache), the timeline (Redis).
What is left per request is the framework — routing, dependency resolution, the
exception layers — which costs more than the feed itself. This middleware answers
such requests directly, with the same service call and the same JSON as the route.

Anything unusual goes down the normal route instead, which then also warms the
caches: an unknown or invalid parameter (its 4xx comes from the route), no or a bad
token, a principal the shared cache does not know (it is read from SQL there), or an
unexpected error. Rate limiting and the other middleware stay in front of it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

from snsfeed.feed import service
from snsfeed.feed.cursor import FeedCursor
from snsfeed.feed.schemas import FeedFilter
from snsfeed.platform.errors import BadRequest
from snsfeed.platform.pagination import MAX_PAGE_SIZE
from snsfeed.users import service as users

log = structlog.get_logger("snsfeed.feed")

PATH = "/api/v1/feed"
_FILTERS = {f.value: f for f in FeedFilter}


def _int_in(value: str, low: int, high: int) -> int | None:
    if not value.isascii() or not value.isdigit():
        return None
    number = int(value)
    return number if low <= number <= high else None


_DEFAULTS: dict[str, Any] = {
    "page": 1,
    "size": 20,
    "cursor": None,
    "feed_filter": FeedFilter.ALL,
}


def _query(raw: bytes) -> dict[str, Any] | None:
    """The route's parameters when every one is present at most once and valid."""
    if not raw:
        return dict(_DEFAULTS)
    params = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    names = [name for name, _ in params]
    if len(set(names)) != len(names):
        return None
    values = dict(params)
    if set(values) - {"page", "size", "cursor", "filter"}:
        return None
    page = _int_in(values.get("page", "1"), 1, 10_000)
    size = _int_in(values.get("size", "20"), 1, MAX_PAGE_SIZE)
    feed_filter = _FILTERS.get(values.get("filter", "all"))
    if page is None or size is None or feed_filter is None:
        return None
    try:
        cursor = FeedCursor.decode(values.get("cursor"))
    except BadRequest:
        return None
    if cursor is None and (page - 1) * size > service.MAX_OFFSET_ITEMS:
        return None
    return {"page": page, "size": size, "cursor": cursor, "feed_filter": feed_filter}


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token if scheme.lower() == "bearer" and token else None
    return None


class FeedFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "GET":
            try:
                body = await self._answer(scope)
            except Exception as exc:  # the route answers instead, with its error handling
                log.warning("feed_fast_path_failed", error=repr(exc))
                body = None
            if body is not None:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    async def _answer(self, scope: Scope) -> bytes | None:
        params = _query(scope["query_string"])
        token = _bearer(scope)
        if params is None or token is None:
            return None
        state = scope["app"].state
        claims = state.signer.verify(token)
        if claims is None:
            return None
        principal = await users.cached_principal(claims)
        if principal is None:
            return None
        store = state.timeline_store
        remembered = service.remembered_home_page(store, principal.id, **params)
        if remembered is not None:
            return remembered
        # A warm page touches no SQL; a session that never began a transaction holds no
        # connection, so it is closed only when one was used.
        session = state.sessionmaker()
        try:
            return await service.home_page(session, store, principal.id, **params)
        finally:
            if session.in_transaction():
                await session.close()
