"""The ``realtime`` consumer group: pushes feed events to users' open streams.

It runs wherever consumers run: inside ``snsfeed serve`` in embedded mode (delivering
through the in-process hub) and in ``snsfeed worker`` processes with Redis (publishing on
the users' pub/sub channels). Like the timelines group it decides from the current SQL
state, not from the event alone: a post deleted, a share undone or a follow ended since
the event delivers nothing. Pushes are not idempotent, so a redelivered event may push a
message twice; clients de-duplicate by ``content_id``. Events older than
``realtime_max_event_age_seconds`` are skipped (a backlog after an outage): clients that
missed them catch up from their last seen post.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.content import service as content
from snsfeed.content.models import Visibility
from snsfeed.engagement import service as engagement
from snsfeed.feed.timelines import Entry
from snsfeed.platform.bus.consumer import ConsumerContext, ConsumerSpec, register_consumer
from snsfeed.platform.bus.envelope import Event
from snsfeed.platform.ids import id_timestamp_ms
from snsfeed.platform.time import utcnow
from snsfeed.realtime import service
from snsfeed.realtime.publisher import publish_many


def _uuid(event: Event, field: str) -> uuid.UUID:
    return uuid.UUID(event.payload[field])


def _stale(event: Event, ctx: ConsumerContext) -> bool:
    age = (utcnow() - event.occurred_at).total_seconds()
    return age > ctx.settings.realtime_max_event_age_seconds


async def _push_entry(
    session: AsyncSession, ctx: ConsumerContext, post_id: uuid.UUID, entry: Entry
) -> None:
    post = (await content.get_many(session, [post_id])).get(post_id)
    if post is None:
        return  # deleted before we got here
    recipients = await service.feed_recipients(session, ctx.redis, post, entry)
    if not recipients:
        return
    message = await service.new_content_message(session, post, entry)
    if message is not None:
        await publish_many(ctx.redis, recipients, message)


async def on_content_created(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    post_id = _uuid(event, "content_id")
    await _push_entry(session, ctx, post_id, Entry(post_id, id_timestamp_ms(post_id)))


async def on_shared(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    sharer, post_id = _uuid(event, "user_id"), _uuid(event, "content_id")
    if not await engagement.has_shared(session, sharer, post_id):
        return  # undone since
    entry = Entry(post_id, int(event.occurred_at.timestamp() * 1000), shared_by=sharer)
    await _push_entry(session, ctx, post_id, entry)


async def on_content_deleted(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    post_id, author = _uuid(event, "content_id"), _uuid(event, "author_id")
    # Events from before the payload carried visibility: assume followers could see it.
    visibility = event.payload.get("visibility", Visibility.FOLLOWERS.value)
    recipients = await service.deletion_recipients(session, ctx.redis, post_id, author, visibility)
    await publish_many(ctx.redis, recipients, service.deleted_message(post_id, event.occurred_at))


HANDLERS = {
    "content.created": on_content_created,
    "content.deleted": on_content_deleted,
    "engagement.shared": on_shared,
}


async def handle(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    if _stale(event, ctx):
        return
    await HANDLERS[event.type](session, event, ctx)


REALTIME = register_consumer(
    ConsumerSpec(
        name="realtime",
        handler=handle,
        event_types=frozenset(HANDLERS),
        needs_redis=False,
        description="Push new and deleted posts to connected users' /ws/feed streams",
    )
)
