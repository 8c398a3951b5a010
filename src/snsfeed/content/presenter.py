"""Turns posts into API responses: author summary, counters and the viewer's own state."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.content.documents import document_of
from snsfeed.content.models import Post
from snsfeed.content.schemas import ContentOut, ViewerState
from snsfeed.engagement import service as engagement
from snsfeed.media import service as media
from snsfeed.platform.errors import NotFound
from snsfeed.users import service as users


async def present_many(
    session: AsyncSession, viewer_id: uuid.UUID | None, posts: Sequence[Post]
) -> list[ContentOut]:
    if not posts:
        return []
    authors = await users.summaries(session, {p.author_id for p in posts})
    # Media: the one place posts get their attachments (the media context owns them).
    attachments = await media.for_posts(session, [p.id for p in posts])
    states: dict[uuid.UUID, ViewerState] = {}
    if viewer_id is not None:
        states = await engagement.viewer_state(session, viewer_id, [p.id for p in posts])
    out = []
    for post in posts:
        author = authors.get(post.author_id)
        if author is None:  # the account was deleted
            continue
        out.append(
            ContentOut(
                **dict(document_of(post, attachments.get(post.id, []))),
                author=author,
                viewer=states.get(post.id) if viewer_id is not None else None,
            )
        )
    return out


async def present_one(session: AsyncSession, viewer_id: uuid.UUID | None, post: Post) -> ContentOut:
    items = await present_many(session, viewer_id, [post])
    if not items:
        # The author's account was deleted after the post was loaded (a concurrent
        # deletion): the post is gone with it.
        raise NotFound("Content not found")
    return items[0]
