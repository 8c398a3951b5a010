"""Content endpoints: create, read, edit, delete; an author's posts."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.content import service
from snsfeed.content.models import Post
from snsfeed.content.presenter import present_many, present_one
from snsfeed.content.schemas import ContentCreate, ContentList, ContentOut, ContentUpdate
from snsfeed.platform.deps import SessionDep, SettingsDep
from snsfeed.platform.errors import NOT_FOUND_RESPONSES, NotFound, Unauthorized
from snsfeed.platform.pagination import MAX_PAGE_SIZE, decode_cursor, encode_cursor
from snsfeed.users.deps import CurrentUser, OptionalUser
from snsfeed.users.schemas import Principal

router = APIRouter(prefix="/api/v1", tags=["content"])

_NOT_FOUND = NOT_FOUND_RESPONSES


async def _present_own(session: AsyncSession, me: Principal, post: Post) -> ContentOut:
    """The caller's own post, just written.

    If its author is gone, the caller's account was deleted while this request ran: the
    caller is no longer authenticated, and the error rolls the write back.
    """
    try:
        return await present_one(session, me.id, post)
    except NotFound:
        raise Unauthorized(
            "Session has ended or account no longer exists", code="invalid_token"
        ) from None


@router.post(
    "/content",
    status_code=201,
    response_model=ContentOut,
    summary="Create a post",
    description=(
        "Hashtags (`#맛집`, `#Café` → `café`) and `@mentions` are parsed from `text` "
        "on the server. "
        "`visibility`: public (everyone), followers (followers and the author), private (author)."
    ),
)
async def create_content(
    data: ContentCreate, session: SessionDep, settings: SettingsDep, me: CurrentUser
) -> ContentOut:
    post = await service.create(session, settings, me, data)
    return await _present_own(session, me, post)


@router.get(
    "/content/{content_id}", response_model=ContentOut, responses=_NOT_FOUND, summary="Read a post"
)
async def get_content(
    content_id: uuid.UUID, session: SessionDep, viewer: OptionalUser
) -> ContentOut:
    viewer_id = viewer.id if viewer else None
    post = await service.get_visible(session, viewer_id, content_id)
    return await present_one(session, viewer_id, post)


@router.patch(
    "/content/{content_id}", response_model=ContentOut, responses=_NOT_FOUND, summary="Edit my post"
)
async def edit_content(
    content_id: uuid.UUID,
    data: ContentUpdate,
    session: SessionDep,
    settings: SettingsDep,
    me: CurrentUser,
) -> ContentOut:
    post = await service.update(session, settings, me, content_id, data)
    return await _present_own(session, me, post)


@router.delete(
    "/content/{content_id}",
    status_code=204,
    responses=_NOT_FOUND,
    summary="Delete a post (author, or a moderator)",
)
async def delete_content(content_id: uuid.UUID, session: SessionDep, me: CurrentUser) -> Response:
    await service.delete(session, me, content_id)
    return Response(status_code=204)


@router.get(
    "/users/{user_id}/content",
    response_model=ContentList,
    summary="A user's posts, newest first, as the caller may see them",
)
async def user_content(
    user_id: uuid.UUID,
    session: SessionDep,
    viewer: OptionalUser,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page")] = None,
) -> ContentList:
    viewer_id = viewer.id if viewer else None
    posts = await service.by_author(session, viewer_id, user_id, decode_cursor(cursor), size)
    items = await present_many(session, viewer_id, posts)
    next_cursor = encode_cursor(posts[-1].id) if len(posts) == size else None
    return ContentList(items=items, next_cursor=next_cursor)
