"""Home feed use cases: a page (by cursor or page number) and "what's new since".

Pages come from Redis timelines when configured (``feed.home``) and from SQL otherwise
or whenever Redis cannot answer; both go through the same filters (``feed.pipeline``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.content import service as content
from snsfeed.content.schemas import FeedScope
from snsfeed.engagement import service as engagement
from snsfeed.feed import pagecache
from snsfeed.feed.cursor import FeedCursor
from snsfeed.feed.home import below_score, fetch_limit, fingerprint_of, home_entries
from snsfeed.feed.pipeline import PageItem, Reader, admit, cursor_of, sql_entries
from snsfeed.feed.schemas import FeedFilter
from snsfeed.feed.timelines import Entry, TimelineStore
from snsfeed.graph import service as graph
from snsfeed.platform import cache
from snsfeed.platform.ids import id_timestamp_ms, uuid_of
from snsfeed.users import service as users

# Deepest offset page served; deeper reading uses cursors.
MAX_OFFSET_ITEMS = 1000
# Candidate fetches for one page before answering with what was found.
_MAX_FETCHES = 3
# How many new items a refresh counts at most.
MAX_REFRESH_COUNT = 500


async def _reader(session: AsyncSession, viewer_id: uuid.UUID, feed_filter: FeedFilter) -> Reader:
    content_type = None
    if feed_filter not in (FeedFilter.ALL, FeedFilter.FOLLOWING):
        content_type = feed_filter.value
    return await Reader.load(
        session,
        viewer_id,
        content_type=content_type,
        include_own=feed_filter != FeedFilter.FOLLOWING,
    )


_instant: TypeAdapter[datetime] = TypeAdapter(datetime)


async def present_items(
    session: AsyncSession, viewer_id: uuid.UUID, items: Sequence[PageItem]
) -> list[dict[str, Any]]:
    """Feed items as JSON-ready dicts, assembled from cached documents.

    Post documents and author summaries come from the near cache; only the viewer's own
    state (liked, shared) is read per request. The result has ``FeedItem``'s shape.
    """
    people = {uuid_of(i.post["author_id"]) for i in items}
    people |= {i.entry.shared_by for i in items if i.entry.shared_by}
    summaries = await users.summary_documents(session, people)
    flags = await engagement.viewer_flags(session, viewer_id, [i.entry.post_id for i in items])
    out = []
    for item in items:
        author = summaries.get(uuid_of(item.post["author_id"]))
        sharer = summaries.get(item.entry.shared_by) if item.entry.shared_by else None
        if author is None or (item.entry.shared_by is not None and sharer is None):
            continue  # author or sharer deleted their account meanwhile
        liked, shared = flags[item.entry.post_id]
        out.append(
            {
                **item.post,
                "author": author,
                "viewer": {"liked": liked, "shared": shared},
                "shared_by": sharer,
                "shared_at": _instant.dump_python(item.entry.at, mode="json") if sharer else None,
            }
        )
    return out


def total_key(viewer_id: uuid.UUID) -> str:
    return f"c:feed_total:{viewer_id}"


async def _count(session: AsyncSession, reader: Reader) -> int:
    """Posts in the feed under the reader's filters, counted in SQL (reposts not counted)."""
    scope = FeedScope(
        viewer_id=reader.id,
        followed_ids=sorted(reader.following),
        hidden_author_ids=set(reader.hidden),
        content_type=reader.content_type,
        include_own=reader.include_own,
    )
    return await content.feed_count(session, scope)


async def _total(session: AsyncSession, reader: Reader, timeline_version: str | None) -> int:
    """The feed's size, counted once per state of the reader's timeline and graph.

    The count is cached under a version made of the timeline's version (any post added
    or removed changes it) and of the reader's follows, blocks and mutes, so it is
    recounted exactly when one of those moved. What the version cannot see — a new post
    of a hot account, a visibility edit — shows once the cached count expires.
    """
    if timeline_version is None:
        return await _count(session, reader)
    version = (
        f"{timeline_version}:{hash(reader.following)}:{hash(reader.hidden)}:"
        f"{reader.content_type}:{reader.include_own}"
    )
    near = cache.current()
    key = total_key(reader.id)
    epoch = near.epoch
    doc = near.get_local(key) or (await near.get_many([key])).get(key)
    if doc is not None and doc["version"] == version:
        return int(doc["total"])
    total = await _count(session, reader)
    await near.put_many(
        {key: {"version": version, "total": total}}, since_epoch=epoch, replace=True
    )
    return total


def _memo_key(
    viewer_id: uuid.UUID, page: int, size: int, cursor: FeedCursor | None, feed_filter: FeedFilter
) -> tuple[object, ...]:
    return (viewer_id, page, size, cursor, feed_filter)


def _want(page: int, size: int, cursor: FeedCursor | None) -> tuple[int, int]:
    """Items to skip, and candidates wanted: the page plus one more (is there a next?)."""
    skip = 0 if cursor is not None else (page - 1) * size
    return skip, skip + size + 1


def remembered_home_page(
    store: TimelineStore | None,
    viewer_id: uuid.UUID,
    *,
    page: int,
    size: int,
    cursor: FeedCursor | None,
    feed_filter: FeedFilter,
) -> bytes | None:
    """``home_page`` answered from memory alone, or None (then call ``home_page``).

    It answers when this process built the same page before from a timeline read that
    Redis has reported no change to since (``TimelineStore.remembered_page``), and no
    near-cache input of the page has changed either (``feed.pagecache``).
    """
    if store is None:
        return None
    _, want = _want(page, size, cursor)
    read = store.remembered_page(viewer_id, below_score(cursor), fetch_limit(want))
    if read is None:
        return None
    return pagecache.pages.get(
        _memo_key(viewer_id, page, size, cursor, feed_filter), fingerprint_of(read)
    )


async def home_page(
    session: AsyncSession,
    store: TimelineStore | None,
    viewer_id: uuid.UUID,
    *,
    page: int,
    size: int,
    cursor: FeedCursor | None,
    feed_filter: FeedFilter,
) -> bytes:
    """A ``FeedPage`` as JSON, built from cached documents without a validation pass.

    A page whose inputs have not changed since it was last built is reused as is
    (``feed.pagecache``).
    """
    started_epoch = cache.current().epoch
    reader = await _reader(session, viewer_id, feed_filter)
    skip, want = _want(page, size, cursor)
    memo_key = _memo_key(viewer_id, page, size, cursor, feed_filter)
    for attempt in range(_MAX_FETCHES):
        found = await home_entries(session, store, reader, cursor, want)
        if attempt == 0 and found.fingerprint is not None:
            known = pagecache.pages.get(memo_key, found.fingerprint)
            if known is not None:
                return known
        items, more = await admit(session, reader, found.entries, size=size, skip=skip)
        if more or len(items) == size or not found.truncated:
            break
        want *= 4  # the filters dropped too many candidates: look further
    has_more = more or (found.truncated and len(items) == size)
    body = orjson.dumps(
        {
            "items": await present_items(session, viewer_id, items),
            "page": 1 if cursor is not None else page,
            "total": await _total(session, reader, found.timeline_version),
            "has_more": has_more,
            "next_cursor": cursor_of(items[-1]).encode() if has_more and items else None,
        }
    )
    if attempt == 0 and found.fingerprint is not None:
        pagecache.pages.put(
            memo_key,
            found.fingerprint,
            started_epoch=started_epoch,
            dependencies=_inputs(viewer_id, found.entries, items),
            body=body,
        )
    return body


def _inputs(viewer_id: uuid.UUID, entries: Sequence[Entry], items: Sequence[PageItem]) -> list[str]:
    """The near-cache keys a page was built from.

    Every candidate's document (an edit may admit a post the filters dropped), but only the
    shown items' people: a dropped candidate's author matters only once its document or the
    reader's facts change, and those are watched.
    """
    people = {uuid_of(i.post["author_id"]) for i in items}
    people |= {i.entry.shared_by for i in items if i.entry.shared_by}
    return [
        graph.facts_key(viewer_id),
        engagement.engaged_key(viewer_id),
        total_key(viewer_id),
        *(content.document_key(p) for p in {e.post_id for e in entries}),
        *(users.summary_key(u) for u in people),
    ]


async def refresh(
    session: AsyncSession, viewer_id: uuid.UUID, last_seen: uuid.UUID, size: int
) -> dict[str, Any]:
    """A ``FeedRefresh`` as a JSON-ready dict: posts newer than the last seen one.

    Entries come from SQL (the source of truth); posts are hydrated from the near cache.
    """
    reader = await _reader(session, viewer_id, FeedFilter.ALL)
    since = FeedCursor(id_timestamp_ms(last_seen), str(last_seen))
    entries = await sql_entries(
        session, reader, before=None, after_ms=since.score - 1, limit=MAX_REFRESH_COUNT
    )
    newer = [e for e in entries if (e.score, e.member) > (since.score, since.member)]
    items, _ = await admit(session, reader, newer, size=MAX_REFRESH_COUNT)
    page = items[:size]
    return {
        "new_items": await present_items(session, viewer_id, page),
        "count": len(items),
        "next_cursor": cursor_of(page[-1]).encode() if len(items) > len(page) and page else None,
    }
