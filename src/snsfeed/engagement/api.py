"""Like, comment and share endpoints."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from snsfeed.engagement import service
from snsfeed.engagement.schemas import (
    CommentCreate,
    CommentList,
    CommentOut,
    LikeResult,
    ShareResult,
)
from snsfeed.platform.deps import SessionDep, SettingsDep
from snsfeed.platform.errors import NOT_FOUND_RESPONSES
from snsfeed.platform.pagination import MAX_PAGE_SIZE, decode_cursor, encode_cursor
from snsfeed.users import service as users
from snsfeed.users.deps import CurrentUser, OptionalUser

router = APIRouter(prefix="/api/v1", tags=["engagement"])

_NOT_FOUND = NOT_FOUND_RESPONSES


@router.post(
    "/content/{content_id}/like",
    response_model=LikeResult,
    responses=_NOT_FOUND,
    summary="Like (idempotent)",
)
async def like(content_id: uuid.UUID, session: SessionDep, me: CurrentUser) -> LikeResult:
    post = await service.like(session, me, content_id)
    return LikeResult(content_id=post.id, liked=True, likes_count=post.likes_count)


@router.delete(
    "/content/{content_id}/like", status_code=204, responses=_NOT_FOUND, summary="Unlike"
)
async def unlike(content_id: uuid.UUID, session: SessionDep, me: CurrentUser) -> Response:
    await service.unlike(session, me, content_id)
    return Response(status_code=204)


@router.post(
    "/content/{content_id}/share",
    response_model=ShareResult,
    status_code=201,
    responses={**_NOT_FOUND, 200: {"description": "Already shared"}},
    summary="Share (repost) a public post",
)
async def share(
    content_id: uuid.UUID, session: SessionDep, me: CurrentUser, response: Response
) -> ShareResult:
    post, created = await service.share(session, me, content_id)
    if not created:
        response.status_code = 200
    return ShareResult(content_id=post.id, shared=True, shares_count=post.shares_count)


@router.delete(
    "/content/{content_id}/share", status_code=204, responses=_NOT_FOUND, summary="Undo a share"
)
async def unshare(content_id: uuid.UUID, session: SessionDep, me: CurrentUser) -> Response:
    await service.unshare(session, me, content_id)
    return Response(status_code=204)


@router.post(
    "/content/{content_id}/comment",
    response_model=CommentOut,
    status_code=201,
    responses=_NOT_FOUND,
    summary="Comment on a post, or reply with parent_comment_id",
)
async def comment(
    content_id: uuid.UUID,
    data: CommentCreate,
    session: SessionDep,
    settings: SettingsDep,
    me: CurrentUser,
) -> CommentOut:
    created = await service.add_comment(session, settings, me, content_id, data)
    author = (await users.summaries(session, [me.id]))[me.id]
    return CommentOut(
        id=created.id,
        content_id=created.content_id,
        parent_comment_id=created.parent_comment_id,
        author=author,
        text=created.text,
        replies_count=0,
        created_at=created.created_at,
        updated_at=created.updated_at,
    )


@router.get(
    "/content/{content_id}/comments",
    response_model=CommentList,
    responses=_NOT_FOUND,
    summary="Comments, oldest first: top level, or the replies to parent_comment_id",
)
async def comments(
    content_id: uuid.UUID,
    session: SessionDep,
    viewer: OptionalUser,
    parent_comment_id: uuid.UUID | None = None,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page")] = None,
) -> CommentList:
    viewer_id = viewer.id if viewer else None
    rows, replies = await service.list_comments(
        session, viewer_id, content_id, parent_comment_id, decode_cursor(cursor), size
    )
    authors = await users.summaries(session, {c.user_id for c in rows})
    items = [
        CommentOut(
            id=c.id,
            content_id=c.content_id,
            parent_comment_id=c.parent_comment_id,
            author=authors[c.user_id],
            text=c.text,
            replies_count=replies.get(c.id, 0),
            created_at=c.created_at,
            updated_at=c.updated_at,
        )
        for c in rows
        if c.user_id in authors
    ]
    next_cursor = encode_cursor(rows[-1].id) if len(rows) == size else None
    return CommentList(items=items, next_cursor=next_cursor)


@router.delete(
    "/comments/{comment_id}",
    status_code=204,
    summary="Delete a comment (its author, the post's author, or a moderator)",
)
async def delete_comment(comment_id: uuid.UUID, session: SessionDep, me: CurrentUser) -> Response:
    await service.delete_comment(session, me, comment_id)
    return Response(status_code=204)
