"""Home feed endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query

from snsfeed.feed import service
from snsfeed.feed.schemas import FeedFilter, FeedPage, FeedRefresh
from snsfeed.platform.deps import SessionDep
from snsfeed.platform.errors import BadRequest
from snsfeed.platform.ids import parse_uuid
from snsfeed.platform.pagination import MAX_PAGE_SIZE, decode_cursor
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
    session: SessionDep,
    me: CurrentUser,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    cursor: Annotated[str | None, Query()] = None,
    filter: Annotated[FeedFilter, Query()] = FeedFilter.ALL,
) -> FeedPage:
    return await service.home_page(
        session, me.id, page=page, size=size, cursor=decode_cursor(cursor), feed_filter=filter
    )


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
) -> FeedRefresh:
    if not x_last_seen_id:
        raise BadRequest("X-Last-Seen-Id header is required", code="last_seen_required")
    last_seen = parse_uuid(x_last_seen_id)
    if last_seen is None:
        raise BadRequest("X-Last-Seen-Id must be a post id (UUID)", code="invalid_last_seen_id")
    return await service.refresh(session, me.id, last_seen, size)
