"""Registration, profiles, account deletion and admin user management."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.content import service as content
from snsfeed.graph import service as graph
from snsfeed.platform.deps import HasherDep, SessionDep
from snsfeed.platform.errors import NotFound
from snsfeed.platform.pagination import MAX_PAGE_SIZE, decode_cursor, encode_cursor
from snsfeed.users import service
from snsfeed.users.deps import AccountOwner, AdminUser, CurrentUser, OptionalUser
from snsfeed.users.models import Role, User
from snsfeed.users.schemas import (
    AdminUser as AdminUserOut,
)
from snsfeed.users.schemas import (
    AdminUserList,
    MyProfile,
    ProfileCounts,
    ProfileUpdate,
    RegisterRequest,
    RelationshipState,
    RoleUpdate,
    UserProfile,
)

router = APIRouter(prefix="/api/v1", tags=["users"])


async def _profile(session: AsyncSession, user: User, viewer_id: uuid.UUID | None) -> UserProfile:
    followers, following = await graph.counts(session, user.id)
    relationship = None
    if viewer_id is not None and viewer_id != user.id:
        rel = await graph.relationship(session, viewer_id, user.id)
        relationship = RelationshipState(**rel.model_dump())
    return UserProfile(
        **service.summary_of(user).model_dump(),
        bio=user.bio,
        created_at=user.created_at,
        updated_at=user.updated_at,
        counts=ProfileCounts(
            followers_count=followers,
            following_count=following,
            posts_count=await content.count_by_author(session, viewer_id, user.id),
        ),
        relationship=relationship,
    )


async def _my_profile(session: AsyncSession, user: User) -> MyProfile:
    profile = await _profile(session, user, user.id)
    return MyProfile(**profile.model_dump(), email=user.email, role=Role(user.role))


@router.post(
    "/users",
    status_code=201,
    response_model=MyProfile,
    summary="Register an account",
    responses={409: {"description": "Username or e-mail already taken"}},
)
async def register(data: RegisterRequest, session: SessionDep, hasher: HasherDep) -> MyProfile:
    user = await service.register(session, hasher, data)
    return await _my_profile(session, user)


@router.get("/users/me", response_model=MyProfile, summary="My profile")
async def me(session: SessionDep, principal: CurrentUser) -> MyProfile:
    return await _my_profile(session, await service.get_active_or_404(session, principal.id))


@router.patch("/users/me", response_model=MyProfile, summary="Update my profile")
async def update_me(data: ProfileUpdate, session: SessionDep, principal: AccountOwner) -> MyProfile:
    user = await service.get_active_or_404(session, principal.id)
    user = await service.update_profile(session, user, data)
    return await _my_profile(session, user)


@router.delete(
    "/users/me",
    status_code=204,
    summary="Delete my account",
    description="Soft delete: the account, its posts, likes and comments vanish from every read.",
)
async def delete_me(session: SessionDep, principal: AccountOwner) -> Response:
    user = await service.get_active_or_404(session, principal.id)
    await service.delete_account(session, user)
    return Response(status_code=204)


async def _visible_profile(
    session: AsyncSession, user: User | None, viewer_id: uuid.UUID | None
) -> UserProfile:
    if user is None:
        raise NotFound("User not found")
    if viewer_id is not None and await graph.is_blocked_between(session, viewer_id, user.id):
        raise NotFound("User not found")
    return await _profile(session, user, viewer_id)


@router.get(
    "/users/by-username/{username}", response_model=UserProfile, summary="A profile by username"
)
async def profile_by_username(
    username: str, session: SessionDep, viewer: OptionalUser
) -> UserProfile:
    user = await service.get_by_username(session, username)
    return await _visible_profile(session, user, viewer.id if viewer else None)


@router.get("/users/{user_id}", response_model=UserProfile, summary="A profile with counts")
async def profile(user_id: uuid.UUID, session: SessionDep, viewer: OptionalUser) -> UserProfile:
    user = await service.get_active(session, user_id)
    return await _visible_profile(session, user, viewer.id if viewer else None)


def _admin_view(user: User) -> AdminUserOut:
    return AdminUserOut(
        id=user.id,
        username=user.username,
        email=user.email,
        role=Role(user.role),
        created_at=user.created_at,
        deleted_at=user.deleted_at,
    )


@router.get(
    "/admin/users", response_model=AdminUserList, tags=["admin"], summary="All accounts (admin)"
)
async def admin_list_users(
    session: SessionDep,
    _: AdminUser,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    cursor: Annotated[str | None, Query()] = None,
) -> AdminUserList:
    rows = await service.list_all(session, decode_cursor(cursor), size)
    return AdminUserList(
        items=[_admin_view(u) for u in rows],
        next_cursor=encode_cursor(rows[-1].id) if len(rows) == size else None,
    )


@router.put(
    "/admin/users/{user_id}/role",
    response_model=AdminUserOut,
    tags=["admin"],
    summary="Set a role (admin)",
)
async def admin_set_role(
    user_id: uuid.UUID, data: RoleUpdate, session: SessionDep, admin: AdminUser
) -> AdminUserOut:
    return _admin_view(await service.set_role(session, user_id, data.role, admin))
