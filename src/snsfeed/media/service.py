"""Media use cases: upload, process, attach to posts, present, clean up."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from snsfeed.config import Settings
from snsfeed.media.images import ImageLimits, ImageRejected, process_image
from snsfeed.media.models import Media, MediaKind, MediaStatus
from snsfeed.media.repository import MediaRepository
from snsfeed.media.schemas import MediaAttachment, attachment
from snsfeed.media.storage import MediaStorage, MissingObject
from snsfeed.media.transcode import POSTER_FILE, VIDEO_FILE, TranscodeResult, run_transcoder
from snsfeed.media.upload import Upload
from snsfeed.platform.errors import NotFound, Unprocessable
from snsfeed.platform.events import emit
from snsfeed.platform.ids import new_id
from snsfeed.platform.time import utcnow
from snsfeed.users.schemas import Principal

log = structlog.get_logger("snsfeed.media")

_image_pool: ThreadPoolExecutor | None = None


def _pool(settings: Settings) -> ThreadPoolExecutor:
    # A bounded pool: at most N images decode at once per process, whatever the load.
    global _image_pool
    if _image_pool is None:
        _image_pool = ThreadPoolExecutor(
            max_workers=settings.media_image_concurrency, thread_name_prefix="media-image"
        )
    return _image_pool


def work_dir(settings: Settings) -> Path:
    """Where uploads are spooled and files are processed (same disk as the data)."""
    path = settings.data_dir / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _variant(
    storage: MediaStorage, key: str, width: int, height: int, content_type: str, size: int
) -> dict[str, Any]:
    return {
        "key": key,
        "url": storage.url(key),
        "width": width,
        "height": height,
        "content_type": content_type,
        "bytes": size,
    }


async def upload(
    session: AsyncSession,
    settings: Settings,
    storage: MediaStorage,
    owner: Principal,
    received: Upload,
) -> Media:
    """Images are processed now (ready); videos are stored and queued (processing)."""
    now = utcnow()
    media = Media(
        # The id names the storage keys, so it is known before the row is written.
        id=new_id(),
        owner_id=owner.id,
        kind=received.kind.value,
        source_type=received.source_type,
        source_bytes=received.size,
        description=received.description,
        created_at=now,
        updated_at=now,
    )
    if received.kind == MediaKind.IMAGE:
        await _store_image(settings, storage, media, received)
        media.status = MediaStatus.READY.value
    else:
        media.source_key = f"{media.id}/source"
        await storage.put(media.source_key, received.path, received.source_type)
        media.status = MediaStatus.PROCESSING.value
    repo = MediaRepository(session)
    repo.add(media)
    await session.flush()
    if media.status == MediaStatus.PROCESSING:
        await emit(
            session,
            "media.uploaded",
            actor_id=owner.id,
            key=media.id,
            payload={"media_id": str(media.id), "owner_id": str(owner.id), "kind": media.kind},
        )
    return media


async def _store_image(
    settings: Settings, storage: MediaStorage, media: Media, received: Upload
) -> None:
    limits = ImageLimits(
        settings.media_image_max_pixels,
        settings.media_image_max_side,
        settings.media_image_original_max_side,
    )
    with tempfile.TemporaryDirectory(dir=work_dir(settings)) as tmp:
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(
                _pool(settings),
                process_image,
                received.path,
                Path(tmp),
                received.source_type,
                limits,
            )
        except ImageRejected as exc:
            raise Unprocessable(exc.message, code=exc.code) from None
        variants = {}
        for r in result.renditions:
            key = f"{media.id}/{r.path.name}"
            await storage.put(key, r.path, r.content_type)
            variants[r.name] = _variant(storage, key, r.width, r.height, r.content_type, r.bytes)
    media.variants = variants
    media.width, media.height, media.blurhash = result.width, result.height, result.blurhash


async def get_own(session: AsyncSession, owner: Principal, media_id: uuid.UUID) -> Media:
    """An upload of the caller's; anyone else's is "not found", like a missing one."""
    media = await MediaRepository(session).get(media_id)
    if media is None or media.owner_id != owner.id or media.delete_after is not None:
        raise NotFound("Media not found")
    return media


async def delete_own(session: AsyncSession, owner: Principal, media_id: uuid.UUID) -> None:
    media = await get_own(session, owner, media_id)
    if media.post_id is not None:
        raise Unprocessable(
            "The media is attached to a post: delete the post instead", code="media_attached"
        )
    now = utcnow()
    media.delete_after, media.updated_at = now, now
    await session.flush()


async def attach_to_post(
    session: AsyncSession,
    settings: Settings,
    author_id: uuid.UUID,
    post_id: uuid.UUID,
    media_ids: Sequence[uuid.UUID],
    content_type: str,
) -> None:
    """Called by the content context while it creates a post, in the same transaction."""
    ids = list(media_ids)
    if content_type not in (MediaKind.IMAGE, MediaKind.VIDEO):
        if ids:
            raise Unprocessable(
                f"A {content_type} post cannot carry media; use type image or video",
                code="media_type_mismatch",
            )
        return
    if not ids:
        raise Unprocessable(f"An {content_type} post needs media_ids", code="media_required")
    if len(set(ids)) != len(ids):
        raise Unprocessable("media_ids contains duplicates", code="media_duplicate")
    most = settings.media_max_attachments if content_type == MediaKind.IMAGE else 1
    if len(ids) > most:
        raise Unprocessable(
            f"A {content_type} post carries at most {most} media", code="too_many_media"
        )
    repo = MediaRepository(session)
    found = {m.id: m for m in await repo.owned(author_id, ids)}
    for media_id in ids:
        media = found.get(media_id)
        if media is None:
            raise Unprocessable(
                "Unknown media id (uploads are usable by their owner only)",
                code="media_not_found",
                details={"media_id": str(media_id)},
            )
        if media.kind != content_type:
            raise Unprocessable(
                f"A {content_type} post needs {content_type} media, not {media.kind}",
                code="media_type_mismatch",
                details={"media_id": str(media_id)},
            )
        if media.status != MediaStatus.READY:
            raise Unprocessable(
                f"The media is {media.status}, not ready",
                code="media_not_ready",
                details={"media_id": str(media_id), "status": media.status},
            )
        if media.post_id is not None:
            raise Unprocessable(
                "The media is already attached to a post",
                code="media_already_attached",
                details={"media_id": str(media_id)},
            )
    if await repo.attach(ids, author_id, post_id, utcnow()) != len(ids):
        # Lost a race with another post (or a delete) for one of them.
        raise Unprocessable("The media is no longer available", code="media_not_available")


async def for_posts(
    session: AsyncSession, post_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[MediaAttachment]]:
    """Attachments of each post, in the order they were given; posts without media absent."""
    if not post_ids:
        return {}
    out: dict[uuid.UUID, list[MediaAttachment]] = defaultdict(list)
    for media in await MediaRepository(session).for_posts(post_ids):
        assert media.post_id is not None
        out[media.post_id].append(attachment(media))
    return dict(out)


async def process_video(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    storage: MediaStorage,
    media_id: uuid.UUID,
) -> None:
    """The ``media`` consumer's work for ``media.uploaded``; idempotent.

    The state is read in a short session of its own and the outcome written with one
    guarded UPDATE, so the consumer's own transaction holds no snapshot or lock while
    the transcoder runs (minutes, for a long video).
    """
    async with sessionmaker() as peek:
        state = await MediaRepository(peek).status_and_source(media_id)
    if state is None or state[0] != MediaStatus.PROCESSING or state[1] is None:
        return  # deleted, or already finished (a redelivery)
    source_key = state[1]
    variants: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(dir=work_dir(settings)) as tmp:
        src, out = Path(tmp) / "source", Path(tmp) / "out"
        out.mkdir()
        try:
            await storage.fetch(source_key, src)
        except MissingObject:
            result = TranscodeResult(False, "source_missing", "The uploaded file is gone")
        else:
            result = await run_transcoder(src, out, settings)
        if result.ok:
            for name, file, content_type in (
                ("video", VIDEO_FILE, "video/mp4"),
                ("poster", POSTER_FILE, "image/webp"),
            ):
                key = f"{media_id}/{file}"
                await storage.put(key, out / file, content_type)
                variants[name] = _variant(
                    storage,
                    key,
                    result.width,
                    result.height,
                    content_type,
                    (out / file).stat().st_size,
                )
    now = utcnow()
    values: dict[str, Any] = {"updated_at": now, "source_key": None}
    if result.ok:
        values.update(
            status=MediaStatus.READY.value,
            variants=variants,
            width=result.width,
            height=result.height,
            duration_seconds=result.duration_seconds,
            blurhash=result.blurhash,
        )
    else:
        values.update(status=MediaStatus.FAILED.value, failure_reason=result.reason)
    repo = MediaRepository(session)
    if not await repo.finish_processing(media_id, values):
        if await repo.get(media_id) is None and variants:
            await storage.delete([v["key"] for v in variants.values()])
        return
    log.info("video_processed", media_id=str(media_id), ok=result.ok, code=result.code)
    await storage.delete([source_key])
    await emit(
        session,
        "media.processed",
        actor_id=None,
        key=media_id,
        payload={
            "media_id": str(media_id),
            "status": values["status"],
            "failure_code": result.code or None,
        },
    )


async def schedule_post_media_deletion(session: AsyncSession, post_id: uuid.UUID) -> int:
    return await MediaRepository(session).schedule_deletion(utcnow(), post_id=post_id)


async def schedule_owner_media_deletion(session: AsyncSession, owner_id: uuid.UUID) -> int:
    return await MediaRepository(session).schedule_deletion(utcnow(), owner_id=owner_id)


async def cleanup(
    session: AsyncSession,
    settings: Settings,
    storage: MediaStorage,
    *,
    now: datetime | None = None,
    batch: int = 500,
) -> int:
    """Remove files and rows of deleted posts' media and of long-unattached uploads.

    Files go first: if the commit then fails, the rows stay and the next run deletes the
    (already missing) files again, which is harmless.
    """
    now = now or utcnow()
    orphaned_before = now - timedelta(seconds=settings.media_orphan_grace_seconds)
    repo = MediaRepository(session)
    rows = await repo.due_for_cleanup(now, orphaned_before, batch)
    if not rows:
        return 0
    await storage.delete([key for m in rows for key in m.storage_keys()])
    await repo.delete_rows([m.id for m in rows])
    return len(rows)
