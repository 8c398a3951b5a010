"""The ``timelines`` consumer group: keeps Redis home timelines in step with events.

Every handler is idempotent (sorted-set adds and removes) and decides from the current
SQL state rather than from the event alone (is the post still there, is the follow
still on), so redelivery and reordering leave the same timelines. Mutes are not
written into timelines at all: the read path filters muted authors.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.content import service as content
from snsfeed.engagement import service as engagement
from snsfeed.feed.timelines import Entry, TimelineStore, timeline_store
from snsfeed.graph import service as graph
from snsfeed.platform.bus.consumer import ConsumerContext, ConsumerSpec, register_consumer
from snsfeed.platform.bus.envelope import Event
from snsfeed.platform.ids import id_timestamp_ms


def store_for(ctx: ConsumerContext) -> TimelineStore:
    store = ctx.extras.get("timeline_store")
    if store is None:
        store = timeline_store(ctx.settings, ctx.redis)
        assert store is not None, "the timelines consumer needs SNSFEED_REDIS_URL"
        ctx.extras["timeline_store"] = store
    return store


def _ms(value: str | datetime) -> int:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return int(moment.timestamp() * 1000)


def _uuid(event: Event, field: str) -> uuid.UUID:
    return uuid.UUID(event.payload[field])


async def _fan_out(
    session: AsyncSession,
    ctx: ConsumerContext,
    store: TimelineStore,
    author: uuid.UUID,
    entry: Entry,
    exclude: frozenset[uuid.UUID] = frozenset(),
) -> int:
    """Deliver to the author and, unless the account is hot (pulled at read time), followers.

    Followers stream from SQL in batches; each batch is written to Redis while the next
    one is read, so the database and Redis work overlap.
    """
    batch = ctx.settings.fanout_batch_size
    hot = await graph.follower_count(session, author) >= ctx.settings.hot_account_followers
    await store.set_hot(author, hot)
    delivered = await store.fan_out([author], entry, batch)
    if hot:
        return delivered
    in_flight: asyncio.Task[int] | None = None
    try:
        async for ids in graph.follower_id_batches(session, author, batch):
            if in_flight is not None:
                delivered += await in_flight
                if ctx.settings.fanout_pause_seconds:
                    await asyncio.sleep(ctx.settings.fanout_pause_seconds)
            readers = [i for i in ids if i not in exclude] if exclude else ids
            in_flight = asyncio.create_task(store.fan_out(readers, entry, batch))
        if in_flight is not None:
            delivered += await in_flight
            in_flight = None
    finally:
        if in_flight is not None:
            in_flight.cancel()
    return delivered


async def on_content_created(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    store = store_for(ctx)
    author = _uuid(event, "author_id")
    post_id = _uuid(event, "content_id")
    entry = Entry(post_id, id_timestamp_ms(post_id))
    if not await content.get_many(session, [entry.post_id]):
        return  # deleted before we got here: delivering it would undo the deletion
    if event.payload["visibility"] == "private":
        await store.fan_out([author], entry, ctx.settings.fanout_batch_size)
        return
    await store.add_author_post(author, entry)
    await _fan_out(session, ctx, store, author, entry)


async def on_content_deleted(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    """Take the post out of the timelines fan-out put it in.

    Reads skip deleted posts anyway; removing them keeps pages full and makes the
    timeline's version change, which is what the cached feed total is keyed on.
    Reposts of it stay until read (they are filtered there) or trimmed.
    """
    store = store_for(ctx)
    author, post = _uuid(event, "author_id"), _uuid(event, "content_id")
    await store.remove_author_post(author, post)
    batch = ctx.settings.fanout_batch_size
    await store.remove_member([author], str(post), batch)
    if event.payload.get("visibility") == "private" or await store.is_hot(author):
        return  # only the author's own timeline had it
    async for ids in graph.follower_id_batches(session, author, batch):
        await store.remove_member(ids, str(post), batch)


async def on_shared(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    store = store_for(ctx)
    sharer = _uuid(event, "user_id")
    entry = Entry(_uuid(event, "content_id"), _ms(event.occurred_at), shared_by=sharer)
    if not await engagement.has_shared(session, sharer, entry.post_id):
        return  # undone since: an out-of-order delivery must not resurrect it
    # Nobody blocked with the post's author receives the repost, whenever the block happened.
    blocked = frozenset(await graph.blocked_either_way(session, _uuid(event, "author_id")))
    if sharer in blocked:
        return
    # Like posts, reposts are also listed under the sharer, for readers merging a hot
    # sharer at read time (they filter blocks themselves).
    await store.add_author_post(sharer, entry)
    await _fan_out(session, ctx, store, sharer, entry, exclude=blocked)


async def on_unshared(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    store = store_for(ctx)
    sharer = _uuid(event, "user_id")
    post = _uuid(event, "content_id")
    if await engagement.has_shared(session, sharer, post):
        return  # shared again since
    readers = [sharer, *await graph.follower_ids(session, sharer)]
    member = Entry(post, 0, shared_by=sharer).member
    await store.remove_author_member(sharer, member)
    await store.remove_member(readers, member, ctx.settings.fanout_batch_size)


async def _merge_author(
    session: AsyncSession, store: TimelineStore, reader: uuid.UUID, author: uuid.UUID
) -> None:
    if not await store.exists(reader):
        return  # built from SQL on the next read anyway
    posts = await content.recent_for_followers(session, author, store.cap)
    await store.add(reader, [Entry(p.id, id_timestamp_ms(p.id)) for p in posts])


async def _drop_author(
    session: AsyncSession, store: TimelineStore, reader: uuid.UUID, author: uuid.UUID
) -> None:
    if not await store.exists(reader):
        return
    posts = await content.recent_ids_by_author(session, author, store.cap)
    await store.remove_posts(reader, posts)
    await store.remove_by_sharer(reader, author)


async def on_followed(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    store = store_for(ctx)
    follower, followee = _uuid(event, "follower_id"), _uuid(event, "followee_id")
    count = await graph.follower_count(session, followee)
    await store.set_hot(followee, count >= ctx.settings.hot_account_followers)
    if await graph.is_following(session, follower, followee):  # not undone since
        await _merge_author(session, store, follower, followee)


async def on_unfollowed(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    store = store_for(ctx)
    follower, followee = _uuid(event, "follower_id"), _uuid(event, "followee_id")
    count = await graph.follower_count(session, followee)
    await store.set_hot(followee, count >= ctx.settings.hot_account_followers)
    if not await graph.is_following(session, follower, followee):  # not re-followed since
        await _drop_author(session, store, follower, followee)


async def on_blocked(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    store = store_for(ctx)
    blocker, blocked = _uuid(event, "blocker_id"), _uuid(event, "blocked_id")
    for reader, author in ((blocker, blocked), (blocked, blocker)):
        # Decided by the follow as it is now: after an unblock and a new follow, keep.
        if not await graph.is_following(session, reader, author):
            await _drop_author(session, store, reader, author)


async def on_user_deleted(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    store = store_for(ctx)
    user = _uuid(event, "user_id")
    await store.delete(user)
    await store.delete_author_posts(user)
    await store.set_hot(user, False)


HANDLERS = {
    "content.created": on_content_created,
    "content.deleted": on_content_deleted,
    "engagement.shared": on_shared,
    "engagement.unshared": on_unshared,
    "graph.followed": on_followed,
    "graph.unfollowed": on_unfollowed,
    "graph.blocked": on_blocked,
    "user.deleted": on_user_deleted,
}


async def handle(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    await HANDLERS[event.type](session, event, ctx)


TIMELINES = register_consumer(
    ConsumerSpec(
        name="timelines",
        handler=handle,
        event_types=frozenset(HANDLERS),
        needs_redis=True,
        description="Fan-out on write into Redis home timelines",
    )
)
