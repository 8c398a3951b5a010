"""Media endpoints: upload, poll, delete; and the local folder's file server."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from snsfeed.media import service
from snsfeed.media.schemas import MediaOut, media_out
from snsfeed.media.storage import CACHE_CONTROL, MediaStorage
from snsfeed.media.upload import receive_upload
from snsfeed.platform.deps import SessionDep, SettingsDep
from snsfeed.platform.errors import NOT_FOUND_RESPONSES
from snsfeed.users.deps import CurrentUser

router = APIRouter(prefix="/api/v1", tags=["media"])


def get_storage(request: Request) -> MediaStorage:
    storage: MediaStorage = request.app.state.media_storage
    return storage


StorageDep = Annotated[MediaStorage, Depends(get_storage)]

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "description": {"type": "string", "description": "Alt text"},
                    },
                }
            }
        },
    }
}


@router.post(
    "/media",
    status_code=201,
    response_model=MediaOut,
    summary="Upload an image or a video",
    description=(
        "`multipart/form-data` with a `file` part (and optional `description`, the alt "
        "text). The type is detected from the bytes: JPEG, PNG, WebP, GIF images are "
        "processed at once (**201**, `ready`: EXIF stripped, auto-oriented, WebP variants "
        "320 and 1080 px and a re-encoded original); MP4, MOV and WebM videos are "
        "transcoded in the background (**202**, `processing`; poll `GET /media/{id}` until "
        "`ready` or `failed`). Limits: `SNSFEED_MEDIA_MAX_IMAGE_BYTES` (10 MB), "
        "`SNSFEED_MEDIA_MAX_VIDEO_BYTES` (100 MB), pixel count and longest side. "
        "Attach ready media to a post with `media_ids`."
    ),
    responses={
        202: {"model": MediaOut, "description": "A video, accepted for processing"},
        413: {"description": "The file is larger than its type's limit"},
        415: {"description": "Not multipart, or a file type that is not accepted"},
        422: {"description": "Empty, corrupt or oversized (pixels) file"},
    },
    openapi_extra=_UPLOAD_BODY,
)
async def upload_media(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    me: CurrentUser,
) -> MediaOut:
    folder = Path(tempfile.mkdtemp(dir=service.work_dir(settings), prefix="upload-"))
    try:
        received = await receive_upload(request, settings, folder)
        media = await service.upload(session, settings, storage, me, received)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if media.status == "processing":
        response.status_code = 202
    return media_out(media)


@router.get(
    "/media/{media_id}",
    response_model=MediaOut,
    responses=NOT_FOUND_RESPONSES,
    summary="One of my uploads: its processing status and files",
)
async def get_media(media_id: uuid.UUID, session: SessionDep, me: CurrentUser) -> MediaOut:
    return media_out(await service.get_own(session, me, media_id))


@router.delete(
    "/media/{media_id}",
    status_code=204,
    responses={**NOT_FOUND_RESPONSES, 422: {"description": "Attached to a post"}},
    summary="Delete one of my uploads that is not attached to a post",
)
async def delete_media(media_id: uuid.UUID, session: SessionDep, me: CurrentUser) -> Response:
    await service.delete_own(session, me, media_id)
    return Response(status_code=204)


class MediaFiles(StaticFiles):
    """The local folder's files: immutable, so cacheable for a year (ETag from Starlette)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = CACHE_CONTROL
            response.headers["X-Content-Type-Options"] = "nosniff"
        return response
