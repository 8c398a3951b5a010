"""Reading a home feed: Redis timelines first, SQL whenever Redis cannot answer.

Redis path: the materialised timeline (built from SQL on the first read after it
expired), merged with the recent posts of followed hot accounts, continued from SQL
below the oldest cached entry. Any Redis error sends the request down the SQL path,
so the feed keeps answering during a Redis outage.
"""

from __future__ import annotations

from dataclasses import replace

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.feed.cursor import FeedCursor
from snsfeed.feed.pipeline import Reader, below, sort_key, sql_entries
from snsfeed.feed.timelines import Entry, TimelineStore
from snsfeed.platform.redis import REDIS_ERRORS

log = structlog.get_logger("snsfeed.feed")

# Entries fetched per item wanted: some are filtered out (deleted, muted, duplicates).
_OVERFETCH = 2
_EXTRA = 10


async def rebuild(session: AsyncSession, store: TimelineStore, reader: Reader) -> bool:
    """Build an absent timeline from SQL; False when another request is building it."""
    if not await store.begin_build(reader.id):
        return False
    # The timeline holds everything the reader follows; mutes and filters apply on read,
    # so unmuting needs no rebuild.
    unfiltered = replace(reader, hidden=frozenset(), content_type=None, include_own=True)
    entries = await sql_entries(session, unfiltered, before=None, limit=store.cap)
    await store.finish_build(reader.id, entries)
    return True


async def redis_entries(
    session: AsyncSession,
    store: TimelineStore,
    reader: Reader,
    before: FeedCursor | None,
    want: int,
) -> tuple[list[Entry], bool] | None:
    """Candidate entries below the cursor and whether the candidates were cut short.

    ``None`` means the timeline could not be served from Redis right now.
    """
    limit = want * _OVERFETCH + _EXTRA
    below_score = before.score + 1 if before else None
    result = await store.read(reader.id, below_score, limit)
    if result is None:
        if not await rebuild(session, store, reader):
            return None
        result = await store.read(reader.id, below_score, limit)
        if result is None:
            return None
    cached, full = result
    truncated = len(cached) >= limit
    hot = sorted((await store.hot_accounts()) & reader.following)
    entries = cached + await store.read_author_posts(hot, below_score, limit)
    entries = below(entries, before)
    if not truncated and full:
        # Older than anything the capped timeline keeps: continue from SQL.
        oldest = min(cached, key=sort_key) if cached else None
        bound = FeedCursor(oldest.score, oldest.member) if oldest else before
        entries = below(
            entries + await sql_entries(session, reader, before=bound, limit=limit), before
        )
        truncated = True
    return entries, truncated


async def home_entries(
    session: AsyncSession,
    store: TimelineStore | None,
    reader: Reader,
    before: FeedCursor | None,
    want: int,
) -> tuple[list[Entry], bool, str]:
    """Entries for a page, whether more may exist past them, and which path answered."""
    if store is not None:
        try:
            result = await redis_entries(session, store, reader, before, want)
        except REDIS_ERRORS as exc:
            log.warning("feed_redis_unavailable", error=repr(exc))
            result = None
        if result is not None:
            entries, truncated = result
            return entries, truncated, "redis"
    limit = want * _OVERFETCH + _EXTRA
    entries = await sql_entries(session, reader, before=before, limit=limit)
    return entries, len(entries) >= limit, "sql"
