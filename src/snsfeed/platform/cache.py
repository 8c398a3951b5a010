"""Near cache: a small in-process TTL cache (L1) in front of Redis (L2).

Values are JSON documents. Writers never update a cached value: they name the keys
their change makes stale (``invalidate_after_commit``) and the keys are dropped once
the transaction has committed — at once from this process's L1, and from Redis, with
a message on ``cache:invalidate`` so every other process drops its L1 copy too (the
spec's Caffeine + Redis layering, kept coherent). A process that loses that channel
clears its whole L1, since it may have missed messages.

Two races are closed rather than left to TTLs:
- a reader that loaded from SQL before a commit must not store its now-stale value
  after the invalidation: Redis keeps a tombstone and fills use ``SET NX``, and
  L1 fills are skipped when any invalidation happened since the reader started;
- without Redis (embedded profile) L1 alone is coherent: there is one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson
import structlog
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from snsfeed.platform.redis import REDIS_ERRORS

log = structlog.get_logger("snsfeed.cache")

CHANNEL = "cache:invalidate"
# How long an invalidated key refuses fills from readers that started before it: longer
# than a slow reader takes from its SQL read to its fill (pool waits, timeouts).
TOMBSTONE_SECONDS = 30
_TOMBSTONE = b""

# Replace values, except where a tombstone says a writer invalidated the key meanwhile.
# A replaced value keeps its expiry: a document that keeps growing still expires.
_REPLACE_LUA = """
for i, key in ipairs(KEYS) do
  local current = redis.call('GET', key)
  if current == false then
    redis.call('SET', key, ARGV[i + 1], 'EX', ARGV[1])
  elseif current ~= '' then
    redis.call('SET', key, ARGV[i + 1], 'KEEPTTL')
  end
end
return 0
"""

# A failed invalidation leaves the old value in Redis until it expires: worth retrying.
_INVALIDATE_ATTEMPTS = 3

_PENDING = "snsfeed.cache.pending"
_TASKS = "snsfeed.cache.tasks"


def jittered(seconds: float) -> float:
    """A lifetime shortened by up to a fifth at random.

    Entries filled together (a warm-up, a popular page) would otherwise all expire
    together, and their refills would arrive as one burst.
    """
    return seconds * random.uniform(0.8, 1.0)


def drop_oldest_quarter(entries: dict[Any, Any]) -> None:
    """Make room in a dict used as a bounded cache (insertion order is age).

    A quarter at a time: clearing it all would turn the next requests into a stampede of
    misses, dropping one at a time would cost a pass per insertion.
    """
    for key in list(entries)[: max(1, len(entries) // 4)]:
        del entries[key]


class _Memory:
    """The L1: a dict with an expiry next to each value.

    A feed page looks up a few dozen keys; ``cachetools.TTLCache`` maintains its expiry
    links and timer on every access, which measured ~20x slower than a dict lookup and
    a clock read, and showed in the feed's profile. Eviction is coarse on purpose: when
    full, expired entries go, then the oldest quarter.
    """

    def __init__(self, maxsize: int, ttl: float) -> None:
        self.maxsize = maxsize
        self.ttl = ttl
        self._data: dict[str, tuple[float, Any]] = {}

    def get(self, key: str) -> Any:
        item = self._data.get(key)
        if item is None:
            return None
        if item[0] < time.monotonic():
            self._data.pop(key, None)
            return None
        return item[1]

    def set(self, key: str, value: Any) -> None:
        if len(self._data) >= self.maxsize:
            self._evict()
        self._data.pop(key, None)  # re-inserted last: insertion order is age
        self._data[key] = (time.monotonic() + jittered(self.ttl), value)

    def pop(self, key: str) -> None:
        self._data.pop(key, None)

    def clear(self) -> None:
        self._data.clear()

    def _evict(self) -> None:
        now = time.monotonic()
        self._data = {k: v for k, v in self._data.items() if v[0] >= now}
        if len(self._data) >= self.maxsize:
            drop_oldest_quarter(self._data)


class NearCache:
    def __init__(
        self,
        redis: Any = None,
        *,
        l1_ttl_seconds: float = 30.0,
        l1_size: int = 50_000,
        l2_ttl_seconds: int = 300,
    ) -> None:
        self.redis = redis
        self.l2_ttl_seconds = l2_ttl_seconds
        self._l1 = _Memory(l1_size, l1_ttl_seconds)
        # Bumped by every invalidation this process sees; fills started under an older
        # value may hold stale data and are not kept in L1.
        self.epoch = 0
        self._listener: asyncio.Task[None] | None = None
        self._replace = redis.register_script(_REPLACE_LUA) if redis is not None else None

    @property
    def l1_ttl_seconds(self) -> float:
        return self._l1.ttl

    # reads
    def get_local(self, key: str) -> Any:
        return self._l1.get(key)

    async def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """Cached values by key; absent keys are misses (L1, then one MGET to Redis)."""
        found: dict[str, Any] = {}
        missing: list[str] = []
        for key in keys:
            value = self._l1.get(key)
            if value is None:
                missing.append(key)
            else:
                found[key] = value
        if not missing or self.redis is None:
            return found
        epoch = self.epoch
        try:
            raw = await self.redis.mget(missing)
        except REDIS_ERRORS as exc:
            log.warning("cache_unavailable", error=repr(exc))
            return found
        for key, data in zip(missing, raw, strict=True):
            if data:  # None is a miss, b"" a tombstone
                value = orjson.loads(data)
                found[key] = value
                if epoch == self.epoch:
                    self._l1.set(key, value)
        return found

    # fills
    async def put_many(
        self, values: Mapping[str, Any], *, since_epoch: int, replace: bool = False
    ) -> None:
        """Store values a reader loaded from the source of truth after ``since_epoch``.

        A plain fill never overwrites (another reader's value is as good); ``replace``
        is for values that grow (a merged document) and overwrites all but tombstones.
        """
        if not values:
            return
        if since_epoch == self.epoch:
            for key, value in values.items():
                self._l1.set(key, value)
        if self.redis is None:
            return
        try:
            if replace:
                assert self._replace is not None
                await self._replace(
                    keys=list(values),
                    args=[self.l2_ttl_seconds, *(orjson.dumps(v) for v in values.values())],
                )
                return
            async with self.redis.pipeline(transaction=False) as pipe:
                for key, value in values.items():
                    expiry = int(jittered(self.l2_ttl_seconds)) or 1
                    pipe.set(key, orjson.dumps(value), ex=expiry, nx=True)
                await pipe.execute()
        except REDIS_ERRORS as exc:
            log.warning("cache_unavailable", error=repr(exc))

    # invalidation
    def evict_local(self, keys: Iterable[str]) -> None:
        self.epoch += 1
        names = list(keys)
        for key in names:
            self._l1.pop(key)
        _notify_eviction(names)

    def clear_local(self) -> None:
        self.epoch += 1
        self._l1.clear()
        _notify_eviction(None)

    async def invalidate(self, keys: Iterable[str]) -> None:
        key_list = sorted(set(keys))
        if not key_list:
            return
        self.evict_local(key_list)
        if self.redis is None:
            return
        for attempt in range(_INVALIDATE_ATTEMPTS):
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for key in key_list:
                        pipe.set(key, _TOMBSTONE, ex=TOMBSTONE_SECONDS)
                    pipe.publish(CHANNEL, orjson.dumps(key_list))
                    await pipe.execute()
                return
            except REDIS_ERRORS as exc:
                log.warning(
                    "cache_invalidation_failed",
                    keys=len(key_list),
                    attempt=attempt,
                    error=repr(exc),
                )
                await asyncio.sleep(0.05 * (attempt + 1))

    # other processes' invalidations
    def start_listener(self) -> None:
        if self.redis is not None and self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="cache-invalidation")

    async def stop_listener(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None

    async def _listen(self) -> None:
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                # Anything published while we were not subscribed is lost: start clean.
                self.clear_local()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self.evict_local(orjson.loads(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a lost connection or a bad message: never stop
                log.warning("cache_listener_lost", error=repr(exc))
                self.clear_local()
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()


# Callbacks told of every local eviction (the keys, or None for all): derived caches such
# as finished pages drop what was built from those keys. Held weakly.
_eviction_listeners: list[weakref.WeakMethod[Callable[[list[str] | None], None]]] = []


def on_local_eviction(callback: Callable[[list[str] | None], None]) -> None:
    """Call ``callback`` (a bound method) on every invalidation this process applies."""
    _eviction_listeners.append(weakref.WeakMethod(callback))


def _notify_eviction(names: list[str] | None) -> None:
    for ref in list(_eviction_listeners):
        callback = ref()
        if callback is None:
            _eviction_listeners.remove(ref)
        else:
            callback(names)


_current = NearCache()


def current() -> NearCache:
    """This process's cache (L1 only until the runtime configures Redis)."""
    return _current


def install(cache: NearCache) -> None:
    global _current
    _current = cache


def invalidate_after_commit(session: AsyncSession, *keys: str) -> None:
    """Drop ``keys`` from every cache level once this session's transaction commits."""
    session.sync_session.info.setdefault(_PENDING, set()).update(keys)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    keys = session.info.pop(_PENDING, None)
    if not keys:
        return
    cache = current()
    cache.evict_local(keys)
    # Redis and the other processes are reached asynchronously; ``flush_invalidations``
    # lets the unit of work wait for it before the response goes out.
    task = asyncio.get_running_loop().create_task(cache.invalidate(keys))
    session.info.setdefault(_TASKS, []).append(task)


async def flush_invalidations(session: AsyncSession) -> None:
    """Wait for this session's invalidations; never fails the (committed) unit of work."""
    tasks = session.sync_session.info.pop(_TASKS, ())
    for task in tasks:
        # Shielded: a request cancelled now (client gone) must not cancel the invalidation.
        with contextlib.suppress(Exception):
            await asyncio.shield(task)
