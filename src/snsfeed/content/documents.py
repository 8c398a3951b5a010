"""Posts as cached JSON documents: what every reader sees, shared by all readers.

The feed hydrates pages from these instead of loading rows: the near cache
(``platform.cache``) answers from process memory or one Redis MGET, and SQL only
for misses. Any change to what a document shows — an edit, a deletion, a counter —
invalidates it after commit (``forget``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.content.models import ContentType, Post, Visibility
from snsfeed.content.repository import ContentRepository
from snsfeed.content.schemas import ContentBody, EngagementCounts, PostDocument
from snsfeed.media import service as media
from snsfeed.media.schemas import MediaAttachment
from snsfeed.platform import cache
from snsfeed.platform.ids import text_of

Document = dict[str, Any]


def document_key(post_id: uuid.UUID) -> str:
    return f"c:post:{text_of(post_id)}"


def document_of(post: Post, attachments: Sequence[MediaAttachment] = ()) -> PostDocument:
    return PostDocument(
        id=post.id,
        author_id=post.author_id,
        content_type=ContentType(post.content_type),
        visibility=Visibility(post.visibility),
        content=ContentBody(
            text=post.text,
            media_urls=[a.url for a in attachments if a.url],
            hashtags=list(post.hashtags),
            mentions=[uuid.UUID(m) for m in post.mentions],
            link_url=post.link_url,
            media=list(attachments),
        ),
        engagement=EngagementCounts(
            likes_count=post.likes_count,
            comments_count=post.comments_count,
            shares_count=post.shares_count,
            views_count=post.views_count,
        ),
        created_at=post.created_at,
        updated_at=post.updated_at,
    )


# Loads under way, by post and by the cache epoch they started in. Right after a post's
# document is invalidated every reader of a page showing it misses at once; they share
# one SQL load instead of stampeding the database. Only loads that started after the
# same invalidations are shared, so nobody is handed a value from before a change.
_loading: dict[tuple[uuid.UUID, int], asyncio.Future[Document | _Failed | None]] = {}


class _Failed:
    """The shared load failed (or was cancelled): each waiter loads for itself."""


async def documents(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Document]:
    """Live posts' documents by id (JSON-ready dicts; callers must not mutate them)."""
    wanted = set(ids)
    near = cache.current()
    epoch = near.epoch
    hits = await near.get_many(document_key(p) for p in wanted)
    found = {p: hits[k] for p in wanted if (k := document_key(p)) in hits}
    missing = wanted - found.keys()
    if not missing:
        return found
    joined = {p: f for p in missing if (f := _loading.get((p, epoch))) is not None}
    mine = missing - joined.keys()
    if mine:
        found.update(await _load(session, near, mine, epoch))
    retry: set[uuid.UUID] = set()
    for pid, pending in joined.items():
        document = await asyncio.shield(pending)
        if isinstance(document, _Failed):
            retry.add(pid)
        elif document is not None:
            found[pid] = document
    if retry:
        found.update(await _load(session, near, retry, epoch))
    return found


async def _load(
    session: AsyncSession, near: cache.NearCache, ids: set[uuid.UUID], epoch: int
) -> dict[uuid.UUID, Document]:
    loop = asyncio.get_running_loop()
    pending: dict[uuid.UUID, asyncio.Future[Document | _Failed | None]] = {
        p: loop.create_future() for p in ids
    }
    for pid, future in pending.items():
        _loading[(pid, epoch)] = future
    try:
        posts = await ContentRepository(session).get_many(ids)
        # Attachments never change once a post has them; a post's deletion forgets it.
        attachments = await media.for_posts(session, list(posts))
        loaded = {
            pid: document_of(post, attachments.get(pid, [])).model_dump(mode="json")
            for pid, post in posts.items()
        }
    except BaseException:
        for pid, future in pending.items():
            _loading.pop((pid, epoch), None)
            future.set_result(_Failed())
        raise
    for pid, future in pending.items():
        future.set_result(loaded.get(pid))
    try:
        await near.put_many({document_key(p): d for p, d in loaded.items()}, since_epoch=epoch)
    finally:
        # Joinable until the cache holds the documents: a reader that found neither
        # level filled yet still shares this load.
        for pid in ids:
            _loading.pop((pid, epoch), None)
    return loaded


def forget(session: AsyncSession, *post_ids: uuid.UUID) -> None:
    cache.invalidate_after_commit(session, *(document_key(p) for p in post_ids))
