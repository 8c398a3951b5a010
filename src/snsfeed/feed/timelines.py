"""Materialised home timelines in Redis.

``tl:{user}`` is a sorted set: member ``<post_id>`` (or ``<post_id>:<sharer_id>`` for a
repost), score = milliseconds. A sentinel member at score 0 marks a timeline as built,
so fan-out can tell "built and empty" from "absent" (``?`` while a build is under way);
only built timelines receive
fan-out, and a timeline expires after ``timeline_active_days`` without reads, which is
how fan-out reaches only recently active followers. ``posts:{author}`` holds each
author's recent shareable posts for hot accounts, merged in at read time.
"""

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from snsfeed.config import Settings
from snsfeed.platform import cache, keywatch
from snsfeed.platform.ids import uuid_of
from snsfeed.platform.keywatch import Stamp, TrackedReader

SENTINEL = b"!"
BUILDING = b"?"

# Add one entry to every *built* timeline among KEYS and trim to the cap (rank 0 is the
# sentinel, so trimming starts at rank 1). Returns how many timelines received it.
_FANOUT_LUA = """
local cap = tonumber(ARGV[3])
local n = 0
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    redis.call('ZADD', key, ARGV[1], ARGV[2])
    redis.call('ZREMRANGEBYRANK', key, 1, -(cap + 1))
    n = n + 1
  end
end
return n
"""


# A feed page's whole Redis read in one call: entries below a score, whether the timeline
# is built (else nothing), its version (size and newest member) and the hot accounts.
# Reading renews the timeline's expiry, but only once it has run down by ARGV[4] seconds:
# a renewal is a modification, and every process that remembers this timeline's pages
# hears of it (``platform.keywatch``). KEYS: timeline, hot set. ARGV: upper bound, limit,
# ttl seconds, renewal slack in seconds.
_READ_PAGE_LUA = """
if not redis.call('ZSCORE', KEYS[1], '!') then
  return false
end
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[3]) - tonumber(ARGV[4]) then
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
local rows = redis.call(
  'ZREVRANGEBYSCORE', KEYS[1], ARGV[1], '(0', 'WITHSCORES', 'LIMIT', 0, ARGV[2])
local newest = redis.call('ZREVRANGE', KEYS[1], 0, 0)
return {redis.call('ZCARD', KEYS[1]), rows, newest[1] or '', redis.call('SMEMBERS', KEYS[2])}
"""


# Remembered timeline reads per process, and how long one is trusted without reading
# Redis again (which also renews the timeline's expiry for an active reader).
MAX_REMEMBERED_READS = 20_000
REMEMBER_SECONDS = 30.0


def timeline_store(
    settings: Settings,
    redis: Any,
    *,
    call_timeout: float | None = None,
    tracked: TrackedReader | None = None,
) -> TimelineStore | None:
    """The store when Redis is configured; None means the SQL pull path only.

    ``call_timeout`` bounds each read-path call, for a client created without a socket
    timeout (see ``platform.redis.create_redis``). With ``tracked``, page reads go through
    it and are remembered until Redis reports a change (``platform.keywatch``).
    """
    if redis is None:
        return None
    return TimelineStore(
        redis,
        cap=settings.timeline_cap,
        ttl_seconds=int(settings.timeline_active_days * 86400),
        call_timeout=call_timeout,
        tracked=tracked,
    )


def timeline_key(user_id: uuid.UUID | str) -> str:
    return f"tl:{user_id}"


def author_posts_key(author_id: uuid.UUID | str) -> str:
    return f"posts:{author_id}"


HOT_ACCOUNTS_KEY = "hot_accounts"


@dataclass(frozen=True)
class Entry:
    post_id: uuid.UUID
    score: int
    shared_by: uuid.UUID | None = None

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.score / 1000, tz=UTC)

    @property
    def member(self) -> str:
        return f"{self.post_id}:{self.shared_by}" if self.shared_by else str(self.post_id)

    @classmethod
    def parse(cls, member: bytes | str, score: float) -> Entry | None:
        text = member.decode() if isinstance(member, bytes) else member
        if text in ("!", "?"):
            return None
        post, _, sharer = text.partition(":")
        return cls(uuid_of(post), int(score), uuid_of(sharer) if sharer else None)


@functools.lru_cache(maxsize=262_144)
def _parse_row(member: bytes, score: bytes) -> Entry | None:
    # Entries are immutable and the same rows are read again and again: parse each once.
    return Entry.parse(member, float(score))


@dataclass(frozen=True)
class TimelinePage:
    entries: list[Entry]
    full: bool
    version: str
    hot_accounts: frozenset[uuid.UUID]
    # The rows exactly as read: equal rows mean an identical page of the timeline.
    raw: tuple[bytes, ...] = ()


_ReadKey = tuple[uuid.UUID, int | None, int]


class TimelineStore:
    def __init__(
        self,
        redis: Any,
        *,
        cap: int,
        ttl_seconds: int,
        call_timeout: float | None = None,
        tracked: TrackedReader | None = None,
    ) -> None:
        self.redis = redis
        self.cap = cap
        self.ttl_seconds = ttl_seconds
        # Renew a reader's timeline expiry at most about once an hour (or a tenth of it).
        self.renew_slack = max(1, min(3600, ttl_seconds // 10))
        self.call_timeout = call_timeout
        self.tracked = tracked
        self._fanout = redis.register_script(_FANOUT_LUA)
        self._read_page = redis.register_script(_READ_PAGE_LUA)
        self._remembered: dict[_ReadKey, tuple[Stamp, float, TimelinePage]] = {}

    def _changed(self, *keys: str) -> None:
        """Report this process's own writes to the watches at once (see ``keywatch``): the
        process's (consumers write through stores without a reader) and this store's."""
        watches = {keywatch.current()}
        if self.tracked is not None:
            watches.add(self.tracked.watch)
        for watch in watches:
            if watch.active:
                watch.changed(keys)

    async def fan_out(self, user_ids: Sequence[uuid.UUID], entry: Entry, batch: int) -> int:
        delivered = 0
        for start in range(0, len(user_ids), batch):
            keys = [timeline_key(u) for u in user_ids[start : start + batch]]
            delivered += int(
                await self._fanout(keys=keys, args=[entry.score, entry.member, self.cap])
            )
            self._changed(*keys)
        return delivered

    async def exists(self, user_id: uuid.UUID) -> bool:
        return bool(await self.redis.exists(timeline_key(user_id)))

    async def begin_build(self, user_id: uuid.UUID) -> bool:
        """Mark a timeline as being built; False when it already exists.

        From here on fan-out lands in it, so a post committed after the caller's SQL
        snapshot is not lost. A crashed build expires after a minute.
        """
        key = timeline_key(user_id)
        async with (
            asyncio.timeout(self.call_timeout),
            self.redis.pipeline(transaction=True) as pipe,
        ):
            pipe.zadd(key, {BUILDING: 0}, nx=True)
            pipe.zcard(key)
            pipe.expire(key, 60, nx=True)
            added, card, _ = await pipe.execute()
        self._changed(key)
        return bool(added) and card == 1

    async def finish_build(self, user_id: uuid.UUID, entries: Iterable[Entry]) -> None:
        key = timeline_key(user_id)
        mapping: dict[str | bytes, float] = {
            e.member: e.score
            for e in sorted(entries, key=lambda e: e.score, reverse=True)[: self.cap]
        }
        async with (
            asyncio.timeout(self.call_timeout),
            self.redis.pipeline(transaction=True) as pipe,
        ):
            if mapping:
                pipe.zadd(key, mapping)
            pipe.zrem(key, BUILDING)
            pipe.zadd(key, {SENTINEL: 0})
            pipe.zremrangebyrank(key, 1, -(self.cap + 1))
            pipe.expire(key, self.ttl_seconds)
            await pipe.execute()
        self._changed(key)

    async def add(self, user_id: uuid.UUID, entries: Sequence[Entry]) -> None:
        """Merge entries into a built timeline (a new follow); absent timelines stay absent."""
        if not entries:
            return
        key = timeline_key(user_id)
        for e in entries:
            await self._fanout(keys=[key], args=[e.score, e.member, self.cap])
        self._changed(key)

    async def remove_posts(self, user_id: uuid.UUID, post_ids: Iterable[uuid.UUID]) -> None:
        """Drop entries of these posts, originals and reposts alike."""
        wanted = {str(p) for p in post_ids}
        if not wanted:
            return
        key = timeline_key(user_id)
        members = await self.redis.zrange(key, 0, -1)
        doomed = [m for m in members if m.decode().split(":", 1)[0] in wanted]
        if doomed:
            await self.redis.zrem(key, *doomed)
            self._changed(key)

    async def remove_member(self, user_ids: Sequence[uuid.UUID], member: str, batch: int) -> None:
        for start in range(0, len(user_ids), batch):
            keys = [timeline_key(user) for user in user_ids[start : start + batch]]
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.zrem(key, member)
                await pipe.execute()
            self._changed(*keys)

    async def remove_by_sharer(self, user_id: uuid.UUID, sharer_id: uuid.UUID) -> None:
        key = timeline_key(user_id)
        suffix = f":{sharer_id}"
        members = await self.redis.zrange(key, 0, -1)
        doomed = [m for m in members if m.decode().endswith(suffix)]
        if doomed:
            await self.redis.zrem(key, *doomed)
            self._changed(key)

    async def read(
        self, user_id: uuid.UUID, below_score: int | None, limit: int
    ) -> tuple[list[Entry], bool] | None:
        """Newest entries strictly below a score; None when the timeline is not built.

        The flag says whether older entries may exist beyond what the timeline holds
        (it is full), in which case the caller continues from SQL.
        """
        page = await self.read_page(user_id, below_score, limit)
        return None if page is None else (page.entries, page.full)

    def remembered_page(
        self, user_id: uuid.UUID, below_score: int | None, limit: int
    ) -> TimelinePage | None:
        """A page read earlier, if Redis has reported no change to it since; no I/O."""
        known = self._remembered.get((user_id, below_score, limit))
        if known is None or self.tracked is None:
            return None
        stamp, until, page = known
        if until < time.monotonic() or not self.tracked.watch.unchanged(
            (timeline_key(user_id), HOT_ACCOUNTS_KEY), stamp
        ):
            return None
        return page

    async def read_page(
        self, user_id: uuid.UUID, below_score: int | None, limit: int
    ) -> TimelinePage | None:
        """``read`` plus what a feed page also needs, in one round trip (or none at all,
        when this process read the same page before and Redis reported no change)."""
        known = self.remembered_page(user_id, below_score, limit)
        if known is not None:
            return known
        keys = (timeline_key(user_id), HOT_ACCOUNTS_KEY)
        upper = f"({below_score}" if below_score is not None else "+inf"
        args = (upper, limit, self.ttl_seconds, self.renew_slack)
        stamp: Stamp | None = None
        async with asyncio.timeout(self.call_timeout):
            if self.tracked is not None:
                result, stamp = await self.tracked.evalsha(self._read_page, keys, args)
            else:
                result = await self._read_page(keys=keys, args=args)
        if not result:
            return None
        card, rows, newest, hot = result
        entries = []
        for i in range(0, len(rows), 2):
            entry = _parse_row(rows[i], rows[i + 1])
            if entry is not None:
                entries.append(entry)
        page = TimelinePage(
            entries=entries,
            full=card - 1 >= self.cap,
            # Changes whenever an entry is added or removed: a version for derived caches.
            version=f"{card}:{newest.decode()}",
            hot_accounts=frozenset(uuid_of(m.decode()) for m in hot),
            raw=tuple(rows),
        )
        if stamp is not None:
            if len(self._remembered) >= MAX_REMEMBERED_READS:
                cache.drop_oldest_quarter(self._remembered)
            read_key = (user_id, below_score, limit)
            self._remembered.pop(read_key, None)  # re-inserted last: insertion order is age
            until = time.monotonic() + cache.jittered(REMEMBER_SECONDS)
            self._remembered[read_key] = (stamp, until, page)
        return page

    async def delete(self, user_id: uuid.UUID) -> None:
        await self.redis.delete(timeline_key(user_id))
        self._changed(timeline_key(user_id))

    # author post lists (pull side of hot accounts)
    async def add_author_post(self, author_id: uuid.UUID, entry: Entry) -> None:
        key = author_posts_key(author_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(key, {entry.member: entry.score})
            pipe.zremrangebyrank(key, 0, -(self.cap + 1))
            await pipe.execute()

    async def remove_author_post(self, author_id: uuid.UUID, post_id: uuid.UUID) -> None:
        await self.remove_author_member(author_id, str(post_id))

    async def remove_author_member(self, author_id: uuid.UUID, member: str) -> None:
        await self.redis.zrem(author_posts_key(author_id), member)

    async def delete_author_posts(self, author_id: uuid.UUID) -> None:
        await self.redis.delete(author_posts_key(author_id))

    async def read_author_posts(
        self, author_ids: Sequence[uuid.UUID], below_score: int | None, limit: int
    ) -> list[Entry]:
        if not author_ids:
            return []
        upper: str | int = f"({below_score}" if below_score is not None else "+inf"
        async with (
            asyncio.timeout(self.call_timeout),
            self.redis.pipeline(transaction=False) as pipe,
        ):
            for author in author_ids:
                pipe.zrevrangebyscore(
                    author_posts_key(author), upper, "-inf", start=0, num=limit, withscores=True
                )
            results = await pipe.execute()
        return [e for rows in results for m, s in rows if (e := Entry.parse(m, s)) is not None]

    async def is_hot(self, author_id: uuid.UUID) -> bool:
        return bool(await self.redis.sismember(HOT_ACCOUNTS_KEY, str(author_id)))

    async def set_hot(self, author_id: uuid.UUID, hot: bool) -> None:
        if hot:
            await self.redis.sadd(HOT_ACCOUNTS_KEY, str(author_id))
        else:
            await self.redis.srem(HOT_ACCOUNTS_KEY, str(author_id))
        self._changed(HOT_ACCOUNTS_KEY)
