"""Follow, block and mute endpoints; follower and following lists."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query, Response

from snsfeed.graph import service
from snsfeed.graph.models import Block, Follow, Mute
from snsfeed.graph.schemas import RelationshipResult, UserList, UserListItem
from snsfeed.platform.deps import SessionDep
from snsfeed.platform.errors import NotFound
from snsfeed.platform.pagination import MAX_PAGE_SIZE, decode_cursor, encode_cursor
from snsfeed.users import service as users
from snsfeed.users.deps import CurrentUser, OptionalUser

router = APIRouter(prefix="/api/v1", tags=["graph"])

SizeQuery = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size (max 50)")]
CursorQuery = Annotated[str | None, Query(description="`next_cursor` of the previous page")]


@router.post("/users/{user_id}/follow", response_model=RelationshipResult, summary="Follow a user")
async def follow(user_id: uuid.UUID, session: SessionDep, me: CurrentUser) -> RelationshipResult:
    return await service.follow(session, me.id, user_id)


@router.delete("/users/{user_id}/follow", status_code=204, summary="Unfollow a user (idempotent)")
async def unfollow(user_id: uuid.UUID, session: SessionDep, me: CurrentUser) -> Response:
    await service.unfollow(session, me.id, user_id)
    return Response(status_code=204)


@router.post(
    "/users/{user_id}/block",
    response_model=RelationshipResult,
    summary="Block a user: removes follows both ways; each side disappears from the other's reads",
)
async def block(user_id: uuid.UUID, session: SessionDep, me: CurrentUser) -> RelationshipResult:
    return await service.block(session, me.id, user_id)


@router.delete("/users/{user_id}/block", status_code=204, summary="Unblock a user")
async def unblock(user_id: uuid.UUID, session: SessionDep, me: CurrentUser) -> Response:
    await service.unblock(session, me.id, user_id)
    return Response(status_code=204)


@router.post(
    "/users/{user_id}/mute",
    response_model=RelationshipResult,
    summary="Mute a user: their posts leave my home feed",
)
async def mute(user_id: uuid.UUID, session: SessionDep, me: CurrentUser) -> RelationshipResult:
    return await service.mute(session, me.id, user_id)


@router.delete("/users/{user_id}/mute", status_code=204, summary="Unmute a user")
async def unmute(user_id: uuid.UUID, session: SessionDep, me: CurrentUser) -> Response:
    await service.unmute(session, me.id, user_id)
    return Response(status_code=204)


async def _visible_user(session: SessionDep, user_id: uuid.UUID, viewer: uuid.UUID | None) -> None:
    if await users.get_active(session, user_id) is None:
        raise NotFound("User not found")
    if viewer is not None and await service.is_blocked_between(session, viewer, user_id):
        raise NotFound("User not found")


async def _user_list(
    session: SessionDep, rows: Sequence[Follow | Block | Mute], user_of: str, size: int
) -> UserList:
    ids = [getattr(r, user_of) for r in rows]
    summaries = await users.summaries(session, ids)
    items = [
        UserListItem(user=summaries[getattr(r, user_of)], since=r.created_at)
        for r in rows
        if getattr(r, user_of) in summaries
    ]
    next_cursor = encode_cursor(rows[-1].seq) if len(rows) == size else None
    return UserList(items=items, next_cursor=next_cursor)


@router.get("/users/{user_id}/followers", response_model=UserList, summary="Who follows this user")
async def followers(
    user_id: uuid.UUID,
    session: SessionDep,
    viewer: OptionalUser,
    size: SizeQuery = 20,
    cursor: CursorQuery = None,
) -> UserList:
    viewer_id = viewer.id if viewer else None
    await _visible_user(session, user_id, viewer_id)
    rows = await service.followers_page(session, user_id, viewer_id, decode_cursor(cursor), size)
    return await _user_list(session, rows, "follower_id", size)


@router.get("/users/{user_id}/following", response_model=UserList, summary="Whom this user follows")
async def following(
    user_id: uuid.UUID,
    session: SessionDep,
    viewer: OptionalUser,
    size: SizeQuery = 20,
    cursor: CursorQuery = None,
) -> UserList:
    viewer_id = viewer.id if viewer else None
    await _visible_user(session, user_id, viewer_id)
    rows = await service.following_page(session, user_id, viewer_id, decode_cursor(cursor), size)
    return await _user_list(session, rows, "following_id", size)


@router.get("/me/blocks", response_model=UserList, summary="Users I have blocked")
async def my_blocks(
    session: SessionDep, me: CurrentUser, size: SizeQuery = 20, cursor: CursorQuery = None
) -> UserList:
    rows = await service.blocks_page(session, me.id, decode_cursor(cursor), size)
    return await _user_list(session, rows, "blocked_id", size)


@router.get("/me/mutes", response_model=UserList, summary="Users I have muted")
async def my_mutes(
    session: SessionDep, me: CurrentUser, size: SizeQuery = 20, cursor: CursorQuery = None
) -> UserList:
    rows = await service.mutes_page(session, me.id, decode_cursor(cursor), size)
    return await _user_list(session, rows, "muted_id", size)
