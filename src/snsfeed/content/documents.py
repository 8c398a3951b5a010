"""Posts as cached JSON documents: what every reader sees, shared by all readers.

The feed hydrates pages from these instead of loading rows: the near cache
(``platform.cache``) answers from process memory or one Redis MGET, and SQL only
for misses. Any change to what a document shows — an edit, a deletion, a counter —
invalidates it after commit (``forget``).
"""

from __future__ import annotations

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


async def documents(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Document]:
    """Live posts' documents by id (JSON-ready dicts; callers must not mutate them)."""
    wanted = set(ids)
    near = cache.current()
    epoch = near.epoch
    hits = await near.get_many(document_key(p) for p in wanted)
    found = {p: hits[k] for p in wanted if (k := document_key(p)) in hits}
    missing = wanted - found.keys()
    if missing:
        posts = await ContentRepository(session).get_many(missing)
        # Attachments never change once a post has them; a post's deletion forgets it.
        attachments = await media.for_posts(session, list(posts))
        loaded = {
            pid: document_of(post, attachments.get(pid, [])).model_dump(mode="json")
            for pid, post in posts.items()
        }
        await near.put_many({document_key(p): d for p, d in loaded.items()}, since_epoch=epoch)
        found.update(loaded)
    return found


def forget(session: AsyncSession, *post_ids: uuid.UUID) -> None:
    cache.invalidate_after_commit(session, *(document_key(p) for p in post_ids))
