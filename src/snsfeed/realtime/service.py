"""Who receives a real-time message about a post, and what it says.

The rule is the home feed's own (``feed.pipeline.Reader.admits``): a stream gets
``new_content`` exactly when ``GET /api/v1/feed`` would show the entry to that user.
Work is limited to users connected somewhere: candidates (the author or sharer and their
followers, streamed from ``graph``) are first filtered by presence in Redis, and only the
connected ones have their graph facts (follows, blocks either way, mutes) loaded, in bulk
and only about the one or two authors concerned.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.content.models import ContentType, Post, Visibility
from snsfeed.feed.pipeline import Reader
from snsfeed.feed.timelines import Entry
from snsfeed.graph import service as graph
from snsfeed.realtime.publisher import connected
from snsfeed.realtime.schemas import PREVIEW_CHARS, ContentPreview, NewContent
from snsfeed.users import service as users

# Followers read per SQL batch while looking for connected ones; readers per facts query.
_FOLLOWER_BATCH = 5000
_FACTS_CHUNK = 1000


async def connected_audience(
    session: AsyncSession, redis: Any, owner: uuid.UUID, *, with_followers: bool
) -> list[uuid.UUID]:
    """The owner and (optionally) their followers who have a stream open somewhere."""
    online = list(await connected(redis, [owner]))
    if with_followers:
        async for ids in graph.follower_id_batches(session, owner, _FOLLOWER_BATCH):
            online.extend(await connected(redis, ids))
    return online


async def admitted(
    session: AsyncSession, readers: Sequence[uuid.UUID], entry: Entry, post: Post
) -> list[uuid.UUID]:
    """The readers whose home feed shows ``entry`` of ``post``, by the feed's own rule."""
    authors = [post.author_id] if entry.shared_by is None else [post.author_id, entry.shared_by]
    # The fields of the post document the rule reads.
    document = {
        "author_id": str(post.author_id),
        "content_type": post.content_type,
        "visibility": post.visibility,
    }
    out: list[uuid.UUID] = []
    for start in range(0, len(readers), _FACTS_CHUNK):
        chunk = readers[start : start + _FACTS_CHUNK]
        facts = await graph.reader_facts_about(session, chunk, authors)
        for reader_id, (following, hidden) in facts.items():
            # The facts cover every author ``admits`` looks at for this entry.
            reader = Reader(reader_id, frozenset(following), frozenset(hidden))
            if reader.admits(entry, document):
                out.append(reader_id)
    return out


async def feed_recipients(
    session: AsyncSession, redis: Any, post: Post, entry: Entry
) -> list[uuid.UUID]:
    """Connected users whose home feed now shows ``entry`` (a post, or a repost of it)."""
    owner = entry.shared_by or post.author_id
    with_followers = entry.shared_by is not None or post.visibility != Visibility.PRIVATE.value
    audience = await connected_audience(session, redis, owner, with_followers=with_followers)
    return await admitted(session, audience, entry, post)


async def deletion_recipients(
    session: AsyncSession, redis: Any, content_id: uuid.UUID, author: uuid.UUID, visibility: str
) -> list[uuid.UUID]:
    """Connected users whose feed showed the post before it was deleted (reposts aside)."""
    # The post row is gone for the content service; the event carries what the rule needs.
    post = Post(
        id=content_id,
        author_id=author,
        visibility=visibility,
        content_type=ContentType.TEXT.value,
    )
    entry = Entry(content_id, 0)
    audience = await connected_audience(
        session, redis, author, with_followers=visibility != Visibility.PRIVATE.value
    )
    return await admitted(session, audience, entry, post)


async def new_content_message(
    session: AsyncSession, post: Post, entry: Entry
) -> dict[str, Any] | None:
    """``{"type": "new_content", "data": {content_id, preview}}``; None if an account is gone."""
    wanted = {post.author_id} if entry.shared_by is None else {post.author_id, entry.shared_by}
    people = await users.summaries(session, wanted)
    author = people.get(post.author_id)
    sharer = people.get(entry.shared_by) if entry.shared_by else None
    if author is None or (entry.shared_by is not None and sharer is None):
        return None
    preview = ContentPreview(
        author=author,
        content_type=ContentType(post.content_type),
        visibility=Visibility(post.visibility),
        text=post.text[:PREVIEW_CHARS],
        truncated=len(post.text) > PREVIEW_CHARS,
        hashtags=list(post.hashtags),
        link_url=post.link_url,
        created_at=post.created_at,
        shared_by=sharer,
        shared_at=entry.at if sharer is not None else None,
    )
    data = NewContent(content_id=post.id, preview=preview)
    return {"type": "new_content", "data": data.model_dump(mode="json")}


def deleted_message(content_id: uuid.UUID, at: datetime) -> dict[str, Any]:
    return {
        "type": "content_deleted",
        "data": {"content_id": str(content_id), "deleted_at": at.isoformat()},
    }
