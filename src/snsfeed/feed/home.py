"""Reading a home feed: Redis timelines first, SQL whenever Redis cannot answer.

Redis path: the materialised timeline (built from SQL on the first read after it
expired), merged with the recent posts of followed hot accounts, continued from SQL
below the oldest cached entry. Any Redis error sends the request down the SQL path,
so the feed keeps answering during a Redis outage.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.feed.cursor import FeedCursor
from snsfeed.feed.pipeline import Reader, below, sort_key, sql_entries
from snsfeed.feed.timelines import Entry, TimelinePage, TimelineStore
from snsfeed.graph import service as graph
from snsfeed.platform.redis import REDIS_ERRORS

log = structlog.get_logger("snsfeed.feed")

# Entries fetched beyond the items wanted: some are filtered out (deleted, muted,
# duplicates). Parsing and hydrating entries is most of a page's cost, so the margin is
# kept modest.
_MARGIN_FRACTION = 0.5
_MARGIN_MIN = 10


def fetch_limit(want: int) -> int:
    return want + max(_MARGIN_MIN, int(want * _MARGIN_FRACTION))


def below_score(before: FeedCursor | None) -> int | None:
    """The timeline read's exclusive upper score for a cursor (ties are cut afterwards)."""
    return before.score + 1 if before else None


def fingerprint_of(page: TimelinePage) -> object:
    """Equal for two reads that give a reader without hot accounts the same candidates."""
    return (page.version, page.raw, page.hot_accounts)


async def rebuild(session: AsyncSession, store: TimelineStore, reader: Reader) -> bool:
    """Build an absent timeline from SQL; False when another request is building it."""
    if not await store.begin_build(reader.id):
        return False
    # The timeline holds everything the reader follows; mutes and filters apply on read,
    # so unmuting needs no rebuild. Follows come from SQL, not the cache: a follow that
    # another process has not heard of yet would be missing from the timeline for good.
    following, _ = await graph.reader_facts_from_source(session, reader.id)
    unfiltered = replace(
        reader, following=following, hidden=frozenset(), content_type=None, include_own=True
    )
    entries = await sql_entries(session, unfiltered, before=None, limit=store.cap)
    await store.finish_build(reader.id, entries)
    return True


@dataclass(frozen=True)
class Candidates:
    entries: list[Entry]
    truncated: bool  # more entries may exist past these
    path: str  # "redis" or "sql"
    # Changes whenever the reader's timeline does (None on the SQL path).
    timeline_version: str | None = None
    # Equal fingerprints mean equal candidates; None when they came from more than the
    # timeline (hot accounts, SQL), which has no cheap fingerprint.
    fingerprint: object = None


async def redis_entries(
    session: AsyncSession,
    store: TimelineStore,
    reader: Reader,
    before: FeedCursor | None,
    want: int,
) -> Candidates | None:
    """Candidate entries below the cursor; ``None`` when Redis cannot serve them now."""
    limit = fetch_limit(want)
    upper = below_score(before)
    page = await store.read_page(reader.id, upper, limit)
    if page is None:
        if not await rebuild(session, store, reader):
            return None
        page = await store.read_page(reader.id, upper, limit)
        if page is None:
            return None
    cached = page.entries
    truncated = len(cached) >= limit
    hot = sorted(page.hot_accounts & reader.following)
    fingerprint: object = None
    if hot:
        entries = below(cached + await store.read_author_posts(hot, upper, limit), before)
    else:
        # One sorted set, read newest first: already in page order and without duplicates.
        entries = cached if before is None else below(cached, before)
        fingerprint = fingerprint_of(page)
    if not truncated and page.full:
        # Older than anything the capped timeline keeps: continue from SQL.
        oldest = min(cached, key=sort_key) if cached else None
        bound = FeedCursor(oldest.score, oldest.member) if oldest else before
        entries = below(
            entries + await sql_entries(session, reader, before=bound, limit=limit), before
        )
        truncated = True
        fingerprint = None
    return Candidates(entries, truncated, "redis", page.version, fingerprint)


async def home_entries(
    session: AsyncSession,
    store: TimelineStore | None,
    reader: Reader,
    before: FeedCursor | None,
    want: int,
) -> Candidates:
    """Entries for a page, whether more may exist past them, and which path answered."""
    if store is not None:
        try:
            result = await redis_entries(session, store, reader, before, want)
        except REDIS_ERRORS as exc:
            log.warning("feed_redis_unavailable", error=repr(exc))
            result = None
        if result is not None:
            return result
    limit = fetch_limit(want)
    entries = await sql_entries(session, reader, before=before, limit=limit)
    return Candidates(entries, len(entries) >= limit, "sql")
