"""The page memo: reused only while the timeline rows and every input object are the same."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from snsfeed.feed.pagecache import PageMemo
from snsfeed.platform import cache


@pytest.fixture
def near() -> Iterator[cache.NearCache]:
    previous = cache.current()
    fresh = cache.NearCache()
    cache.install(fresh)
    yield fresh
    cache.install(previous)


async def _built(near: cache.NearCache, memo: PageMemo) -> None:
    await near.put_many(
        {"c:post:1": {"likes": 0}, "c:user:1": {"name": "a"}}, since_epoch=near.epoch
    )
    memo.put(
        "page",
        ("v1", (b"row",)),
        started_epoch=near.epoch,
        dependencies=["c:post:1", "c:user:1"],
        body=b"page-1",
    )


async def test_an_unchanged_page_is_reused(near: cache.NearCache) -> None:
    memo = PageMemo()
    await _built(near, memo)
    assert memo.get("page", ("v1", (b"row",))) == b"page-1"


async def test_different_timeline_rows_are_a_miss(near: cache.NearCache) -> None:
    memo = PageMemo()
    await _built(near, memo)
    assert memo.get("page", ("v2", (b"row", b"new"))) is None


async def test_a_changed_input_is_a_miss_even_after_it_is_cached_again(
    near: cache.NearCache,
) -> None:
    memo = PageMemo()
    await _built(near, memo)
    await near.invalidate(["c:post:1"])
    await near.put_many({"c:post:1": {"likes": 1}}, since_epoch=near.epoch)
    assert memo.get("page", ("v1", (b"row",))) is None


async def test_an_unrelated_invalidation_keeps_the_page(near: cache.NearCache) -> None:
    memo = PageMemo()
    await _built(near, memo)
    await near.invalidate(["c:post:99"])
    assert memo.get("page", ("v1", (b"row",))) == b"page-1"


async def test_a_page_built_across_an_invalidation_is_not_kept(near: cache.NearCache) -> None:
    memo = PageMemo()
    started = near.epoch
    await near.invalidate(["c:post:1"])  # lands while the page is being built
    memo.put("page", "fp", started_epoch=started, dependencies=[], body=b"stale?")
    assert memo.get("page", "fp") is None


async def test_an_input_that_was_never_in_memory_still_drops_the_page(
    near: cache.NearCache,
) -> None:
    memo = PageMemo()
    await near.put_many({"c:post:1": {"likes": 0}}, since_epoch=near.epoch)
    memo.put(
        "page",
        "fp",
        started_epoch=near.epoch,
        dependencies=["c:post:1", "c:user:gone"],  # the summary is not in L1
        body=b"page",
    )
    assert memo.get("page", "fp") == b"page"
    await near.invalidate(["c:user:gone"])
    assert memo.get("page", "fp") is None


async def test_another_process_invalidating_an_input_drops_the_page(
    near: cache.NearCache,
) -> None:
    memo = PageMemo()
    await _built(near, memo)
    near.evict_local(["c:user:1"])  # what the cache:invalidate listener does
    assert memo.get("page", ("v1", (b"row",))) is None


async def test_losing_the_invalidation_channel_drops_every_page(near: cache.NearCache) -> None:
    memo = PageMemo()
    await _built(near, memo)
    near.clear_local()
    assert memo.get("page", ("v1", (b"row",))) is None


async def test_a_page_lives_no_longer_than_the_documents_in_memory(
    near: cache.NearCache,
) -> None:
    short = cache.NearCache(l1_ttl_seconds=0.0)
    cache.install(short)  # the fixture puts the previous one back
    memo = PageMemo()
    await _built(short, memo)
    assert memo.get("page", ("v1", (b"row",))) is None


async def test_a_rebuilt_page_no_longer_depends_on_what_it_stopped_showing(
    near: cache.NearCache,
) -> None:
    memo = PageMemo()
    memo.put("page", "a", started_epoch=near.epoch, dependencies=["c:post:old"], body=b"old")
    memo.put("page", "b", started_epoch=near.epoch, dependencies=["c:post:new"], body=b"new")
    await near.invalidate(["c:post:old"])
    assert memo.get("page", "b") == b"new"


async def test_a_full_memo_forgets_its_oldest_pages_first(near: cache.NearCache) -> None:
    memo = PageMemo(maxsize=4)
    await near.put_many({"c:post:1": {"likes": 0}}, since_epoch=near.epoch)
    for n in range(5):
        memo.put(
            n, "rows", started_epoch=near.epoch, dependencies=["c:post:1"], body=f"{n}".encode()
        )
    assert memo.get(0, "rows") is None
    assert [memo.get(n, "rows") for n in range(1, 5)] == [b"1", b"2", b"3", b"4"]
