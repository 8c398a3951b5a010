"""Home feed endpoints."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Query, Request, Response

from snsfeed.feed import service
from snsfeed.feed.cursor import FeedCursor
from snsfeed.feed.schemas import FeedFilter, FeedPage, FeedRefresh
from snsfeed.platform.deps import SessionDep
from snsfeed.platform.errors import BadRequest
from snsfeed.platform.ids import parse_uuid
from snsfeed.platform.pagination import MAX_PAGE_SIZE
from snsfeed.users.deps import CurrentUser

router = APIRouter(prefix="/api/v1/feed", tags=["feed"])


@router.get(
    "",
    response_model=FeedPage,
    summary="My home feed",
    description=(
        "My own posts and the visible posts of everyone I follow, newest first, without blocked, "
        "muted or deleted accounts and posts. Page with `page` (1-based) or, for stable infinite "
        "scroll, with `cursor` (the previous response's `next_cursor`). `filter`: all | following "
        "(others only) | text | link | image | video."
    ),
)
async def home_feed(
    request: Request,
    session: SessionDep,
    me: CurrentUser,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    cursor: Annotated[str | None, Query()] = None,
    filter: Annotated[FeedFilter, Query()] = FeedFilter.ALL,
) -> Response:
    if cursor is None and (page - 1) * size > service.MAX_OFFSET_ITEMS:
        raise BadRequest(
            f"Offset pages reach {service.MAX_OFFSET_ITEMS} items deep; use `cursor` beyond that",
            code="page_too_deep",
        )
    result = await service.home_page(
        session,
        request.app.state.timeline_store,
        me.id,
        page=page,
        size=size,
        cursor=FeedCursor.decode(cursor),
        feed_filter=filter,
    )
    return Response(result, media_type="application/json")


@router.get(
    "/refresh",
    response_model=FeedRefresh,
    summary="Posts newer than the one I saw last",
    description="Send the id of the newest post you have as `X-Last-Seen-Id`.",
)
async def refresh_feed(
    session: SessionDep,
    me: CurrentUser,
    x_last_seen_id: Annotated[str | None, Header()] = None,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = MAX_PAGE_SIZE,
) -> Response:
    if not x_last_seen_id:
        raise BadRequest("X-Last-Seen-Id header is required", code="last_seen_required")
    last_seen = parse_uuid(x_last_seen_id)
    if last_seen is None:
        raise BadRequest("X-Last-Seen-Id must be a post id (UUID)", code="invalid_last_seen_id")
    result = await service.refresh(session, me.id, last_seen, size)
    return Response(orjson.dumps(result), media_type="application/json")
