"""The pull-model home feed: followed authors' visible posts straight from SQL.

This path stays as the fallback once materialised timelines arrive.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.content import service as content
from snsfeed.content.models import ContentType
from snsfeed.content.presenter import present_many
from snsfeed.content.repository import FeedScope
from snsfeed.feed.schemas import FeedFilter, FeedPage, FeedRefresh
from snsfeed.platform.pagination import encode_cursor


async def _scope(session: AsyncSession, viewer_id: uuid.UUID, feed_filter: FeedFilter) -> FeedScope:
    content_type = None
    if feed_filter not in (FeedFilter.ALL, FeedFilter.FOLLOWING):
        content_type = ContentType(feed_filter.value)
    return await content.feed_scope(
        session,
        viewer_id,
        content_type=content_type,
        include_own=feed_filter != FeedFilter.FOLLOWING,
    )


async def home_page(
    session: AsyncSession,
    viewer_id: uuid.UUID,
    *,
    page: int,
    size: int,
    cursor: uuid.UUID | None,
    feed_filter: FeedFilter,
) -> FeedPage:
    scope = await _scope(session, viewer_id, feed_filter)
    if cursor is not None:
        # Keyset pages stay stable while new posts arrive; `page` is then informational.
        posts = await content.feed_page(session, scope, before=cursor, limit=size + 1)
        page = 1
    else:
        posts = await content.feed_page(session, scope, offset=(page - 1) * size, limit=size + 1)
    has_more = len(posts) > size
    posts = posts[:size]
    total = await content.feed_count(session, scope)
    return FeedPage(
        items=await present_many(session, viewer_id, posts),
        page=page,
        total=total,
        has_more=has_more,
        next_cursor=encode_cursor(posts[-1].id) if has_more and posts else None,
    )


async def refresh(
    session: AsyncSession, viewer_id: uuid.UUID, last_seen: uuid.UUID, size: int
) -> FeedRefresh:
    scope = await _scope(session, viewer_id, FeedFilter.ALL)
    posts = await content.feed_page(session, scope, after=last_seen, limit=size)
    count = await content.feed_count(session, scope, after=last_seen)
    return FeedRefresh(
        new_items=await present_many(session, viewer_id, posts),
        count=count,
        next_cursor=encode_cursor(posts[-1].id) if count > len(posts) and posts else None,
    )
