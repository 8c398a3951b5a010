"""Finished feed pages, reused for as long as nothing they were built from has changed.

A page is built from the reader's timeline (a Redis read, remembered until Redis reports a
change: ``TimelineStore.remembered_page``) and from near-cache documents: the reader's
graph facts and engagement, the post documents, the author summaries, the cached total.
The memo keys a page by the timeline rows it was built from (its fingerprint) and indexes
it by the near-cache keys of its inputs; every invalidation of such a key, in this
process or in another (``platform.cache``), drops the pages built from it at once. A
lookup is therefore one dict read and a comparison, whatever the write rate elsewhere.
This is the spec's page cache (``feed:user:{id}:page:{n}``) with exact invalidation
instead of a TTL; a page is still rebuilt after the L1 lifetime, so it never outlives the
safety net of the documents it shows.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from snsfeed.platform import cache

# Pages remembered per process (a page of 20 items is about 14 KiB of JSON).
MAX_PAGES = 5000


@dataclass(frozen=True)
class _Built:
    fingerprint: object
    inputs: tuple[str, ...]
    expires: float
    body: bytes


class PageMemo:
    def __init__(self, maxsize: int = MAX_PAGES) -> None:
        self.maxsize = maxsize
        self._pages: dict[object, _Built] = {}
        self._by_input: dict[str, set[object]] = {}
        cache.on_local_eviction(self.inputs_changed)

    def get(self, key: object, fingerprint: object) -> bytes | None:
        built = self._pages.get(key)
        if built is None or built.fingerprint != fingerprint:
            return None
        if built.expires < time.monotonic():
            self._drop(key)
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
        if key in self._pages:
            self._drop(key)
        elif len(self._pages) >= self.maxsize:
            for oldest in list(self._pages)[: max(1, len(self._pages) // 4)]:
                self._drop(oldest)
        inputs = tuple(set(dependencies))
        expires = time.monotonic() + cache.jittered(near.l1_ttl_seconds)
        self._pages[key] = _Built(fingerprint, inputs, expires, body)
        for name in inputs:
            self._by_input.setdefault(name, set()).add(key)

    def inputs_changed(self, names: Iterable[str] | None) -> None:
        """Near-cache keys were invalidated (None: all of them)."""
        if names is None:
            self.clear()
            return
        for name in names:
            for key in self._by_input.pop(name, ()):
                self._drop(key)

    def _drop(self, key: object) -> None:
        built = self._pages.pop(key, None)
        if built is None:
            return
        for name in built.inputs:
            dependents = self._by_input.get(name)
            if dependents is not None:
                dependents.discard(key)
                if not dependents:
                    del self._by_input[name]

    def clear(self) -> None:
        self._pages.clear()
        self._by_input.clear()


pages = PageMemo()
