"""From timeline entries to a page of posts: merge sources, filter, de-duplicate, hydrate.

Both read paths use it: entries come from Redis (materialised timelines plus hot
authors' posts) or from SQL (the pull path), and the same rules decide what shows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.content import service as content
from snsfeed.content.documents import Document
from snsfeed.content.models import Visibility
from snsfeed.content.schemas import FeedScope
from snsfeed.engagement import service as engagement
from snsfeed.feed.cursor import FeedCursor
from snsfeed.feed.timelines import Entry
from snsfeed.graph import service as graph
from snsfeed.platform.ids import id_floor_for_ms, id_timestamp_ms, uuid_of

_SHARED = (Visibility.PUBLIC.value, Visibility.FOLLOWERS.value)


@dataclass(frozen=True)
class Reader:
    """Who reads, and the graph facts every filter needs (loaded once per request)."""

    id: uuid.UUID
    following: frozenset[uuid.UUID]
    hidden: frozenset[uuid.UUID]
    content_type: str | None = None
    include_own: bool = True

    @classmethod
    async def load(
        cls,
        session: AsyncSession,
        viewer_id: uuid.UUID,
        *,
        content_type: str | None = None,
        include_own: bool = True,
    ) -> Reader:
        following, hidden = await graph.reader_facts(session, viewer_id)
        return cls(
            id=viewer_id,
            following=following,
            hidden=hidden,
            content_type=content_type,
            include_own=include_own,
        )

    def admits(self, entry: Entry, post: Document) -> bool:
        author = uuid_of(post["author_id"])
        if author in self.hidden:
            return False
        if self.content_type is not None and post["content_type"] != self.content_type:
            return False
        if not self.include_own and self.id in (author, entry.shared_by):
            return False
        if entry.shared_by is not None:
            sharer_ok = entry.shared_by == self.id or entry.shared_by in self.following
            return (
                sharer_ok
                and entry.shared_by not in self.hidden
                and post["visibility"] == Visibility.PUBLIC.value
            )
        if author == self.id:
            return True
        return author in self.following and post["visibility"] in _SHARED


def sort_key(entry: Entry) -> tuple[int, str]:
    return entry.score, entry.member


def below(entries: Iterable[Entry], cursor: FeedCursor | None) -> list[Entry]:
    ordered = sorted(set(entries), key=sort_key, reverse=True)
    if cursor is None:
        return ordered
    return [e for e in ordered if sort_key(e) < (cursor.score, cursor.member)]


# The last millisecond of year 9999: any time bound beyond it (a random UUIDv4 read as a
# UUIDv7, a crafted cursor) means "no limit", never an overflow.
_MAX_MS = 253_402_300_799_999


def _bounded(ms: int) -> int:
    return max(0, min(ms, _MAX_MS))


def _ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


async def sql_entries(
    session: AsyncSession,
    reader: Reader,
    *,
    before: FeedCursor | None,
    after_ms: int | None = None,
    limit: int,
) -> list[Entry]:
    """The pull path: own and followed authors' posts, plus shares by followed users."""
    scope = FeedScope(
        viewer_id=reader.id,
        followed_ids=sorted(reader.following),
        hidden_author_ids=set(reader.hidden),
    )
    # Inclusive bounds (+1 ms): same-millisecond ties are cut by ``below`` afterwards.
    before_id = id_floor_for_ms(_bounded(before.score + 1)) if before else None
    after_id = id_floor_for_ms(_bounded(after_ms + 1)) if after_ms is not None else None
    posts = await content.feed_page(session, scope, before=before_id, after=after_id, limit=limit)
    entries = [Entry(p.id, id_timestamp_ms(p.id)) for p in posts]
    sharers = [reader.id, *sorted(reader.following - reader.hidden)]
    shares = await engagement.shares_by_users(
        session,
        sharers,
        before=_ms_to_datetime(_bounded(before.score + 1)) if before else None,
        after=_ms_to_datetime(_bounded(after_ms + 1)) if after_ms is not None else None,
        limit=limit,
    )
    entries += [
        Entry(s.content_id, int(s.created_at.timestamp() * 1000), shared_by=s.user_id)
        for s in shares
    ]
    return below(entries, before)


@dataclass(frozen=True)
class PageItem:
    entry: Entry
    post: Document


async def admit(
    session: AsyncSession,
    reader: Reader,
    entries: Sequence[Entry],
    *,
    size: int,
    skip: int = 0,
) -> tuple[list[PageItem], bool]:
    """First ``size`` admissible entries after ``skip``, one per post; and whether more exist."""
    posts = await content.documents(session, {e.post_id for e in entries})
    items: list[PageItem] = []
    seen: set[uuid.UUID] = set()
    for entry in entries:
        post = posts.get(entry.post_id)
        if post is None or entry.post_id in seen or not reader.admits(entry, post):
            continue
        seen.add(entry.post_id)
        if skip:
            skip -= 1
            continue
        if len(items) == size:
            return items, True
        items.append(PageItem(entry, post))
    return items, False


def cursor_of(item: PageItem) -> FeedCursor:
    return FeedCursor(item.entry.score, item.entry.member)
