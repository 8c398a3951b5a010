"""The ``media`` consumer group: transcodes videos and reacts to deleted posts and accounts.

In embedded mode it runs inside ``snsfeed serve``; with a broker, in ``snsfeed worker``
(``--consumer media`` gives transcoding machines of their own).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.media import service
from snsfeed.media.storage import MediaStorage, create_storage
from snsfeed.platform.bus.consumer import ConsumerContext, ConsumerSpec, register_consumer
from snsfeed.platform.bus.envelope import Event


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
