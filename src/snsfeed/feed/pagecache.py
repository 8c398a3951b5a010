"""Finished feed pages, reused for as long as nothing they were built from has changed.

A page is built from the reader's timeline (read from Redis on every request) and from
near-cache documents: the reader's graph facts and engagement, the post documents, the
author summaries, the cached total. Every change to one of those replaces or drops its
L1 entry (``platform.cache``), so a page remembers the exact L1 objects it was built
from and is reused only while the timeline read returns the very same rows and every
one of those objects is still the one in L1. Any edit, like, follow, mute or new post
therefore rebuilds exactly the pages it touches — this is the spec's page cache
(``feed:user:{id}:page:{n}``) with precise invalidation instead of a TTL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from snsfeed.platform import cache

# Pages remembered per process (a page of 20 items is about 14 KiB of JSON).
MAX_PAGES = 5000


@dataclass(frozen=True)
class _Built:
    fingerprint: object
    epoch: int
    dependencies: tuple[tuple[str, object], ...]
    body: bytes


class PageMemo:
    def __init__(self, maxsize: int = MAX_PAGES) -> None:
        self.maxsize = maxsize
        self._pages: dict[object, _Built] = {}

    def get(self, key: object, fingerprint: object) -> bytes | None:
        built = self._pages.get(key)
        if built is None or built.fingerprint != fingerprint:
            return None
        near = cache.current()
        if built.epoch != near.epoch:
            # Something was invalidated since: check this page's own inputs.
            for dependency, value in built.dependencies:
                if near.get_local(dependency) is not value:
                    del self._pages[key]
                    return None
        return built.body

    def put(
        self,
        key: object,
        fingerprint: object,
        *,
        started_epoch: int,
        dependencies: Iterable[str],
        body: bytes,
    ) -> None:
        """Remember a page built while no invalidation happened (since ``started_epoch``)."""
        near = cache.current()
        if near.epoch != started_epoch:
            return  # an input may have changed under the build: do not trust it later
        captured = tuple((d, near.get_local(d)) for d in dependencies)
        if any(value is None for _, value in captured):
            # An input is not in L1 (expired, evicted, or absent such as a deleted
            # account): its invalidation would go unnoticed, so the page is not kept.
            return
        if len(self._pages) >= self.maxsize:
            cache.drop_oldest_quarter(self._pages)
        self._pages.pop(key, None)  # re-inserted last: insertion order is age
        self._pages[key] = _Built(fingerprint, started_epoch, captured, body)

    def clear(self) -> None:
        self._pages.clear()


pages = PageMemo()
