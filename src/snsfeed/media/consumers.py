"""The ``media`` consumer group: transcodes videos and reacts to deleted posts and accounts.

In embedded mode it runs inside ``snsfeed serve``; with a broker, in ``snsfeed worker``
(``--consumer media`` gives transcoding machines of their own).
"""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.media import service
from snsfeed.media.storage import MediaStorage, create_storage
from snsfeed.platform.bus.consumer import (
    ConsumerContext,
    ConsumerSpec,
    periodic_spec,
    register_consumer,
)
from snsfeed.platform.bus.envelope import Event
from snsfeed.platform.db import session_scope

log = structlog.get_logger("snsfeed.media")


def storage_for(ctx: ConsumerContext) -> MediaStorage:
    storage: MediaStorage | None = ctx.extras.get("media_storage")
    if storage is None:
        storage = create_storage(ctx.settings)
        ctx.extras["media_storage"] = storage
    return storage


async def handle(session: AsyncSession, event: Event, ctx: ConsumerContext) -> None:
    if event.type == "media.uploaded":
        await service.process_video(
            session,
            ctx.sessionmaker,
            ctx.settings,
            storage_for(ctx),
            uuid.UUID(event.payload["media_id"]),
        )
    elif event.type == "content.deleted":
        await service.schedule_post_media_deletion(session, uuid.UUID(event.payload["content_id"]))
    elif event.type == "user.deleted":
        await service.schedule_owner_media_deletion(session, uuid.UUID(event.payload["user_id"]))


register_consumer(
    ConsumerSpec(
        name="media",
        handler=handle,
        event_types=frozenset({"media.uploaded", "content.deleted", "user.deleted"}),
        description="video transcoding; media of deleted posts and accounts to the cleanup",
    )
)


async def cleanup_pass(ctx: ConsumerContext) -> int:
    """Remove everything due for cleanup, a batch per transaction; how many were removed."""
    total = 0
    while True:
        async for session in session_scope(ctx.sessionmaker):
            removed = await service.cleanup(session, ctx.settings, storage_for(ctx))
        total += removed
        if removed == 0:
            return total


# Several processes may run it at once: deleting files and rows is idempotent.
register_consumer(
    periodic_spec(
        "media-cleanup",
        cleanup_pass,
        interval=lambda settings: settings.media_cleanup_interval_seconds,
        description="removes deleted posts' media and long-unattached uploads, periodically",
    )
)
