"""All SQL of the users context."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.users.models import AuthSession, RefreshToken, User

RowLock = Literal["share", "update"] | None


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: uuid.UUID, *, include_deleted: bool = False) -> User | None:
        stmt = select(User).where(User.id == user_id)
        if not include_deleted:
            stmt = stmt.where(User.deleted_at.is_(None))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def is_active(self, user_id: uuid.UUID) -> bool:
        stmt = select(User.id).where(User.id == user_id, User.deleted_at.is_(None))
        return (await self.session.execute(stmt)).first() is not None

    async def get_by_username(self, username: str) -> User | None:
        stmt = select(User).where(User.username == username.lower(), User.deleted_at.is_(None))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get_by_login(self, login: str) -> User | None:
        """Look up an active account by username or e-mail address."""
        folded = login.strip().lower()
        column = User.email if "@" in folded else User.username
        stmt = select(User).where(column == folded, User.deleted_at.is_(None))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def username_or_email_taken(self, username: str, email: str) -> tuple[bool, bool]:
        stmt = select(User.username, User.email).where(
            (User.username == username) | (User.email == email)
        )
        rows = (await self.session.execute(stmt)).all()
        return any(r.username == username for r in rows), any(r.email == email for r in rows)

    async def get_many(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, User]:
        id_list = list(set(ids))
        if not id_list:
            return {}
        stmt = select(User).where(User.id.in_(id_list), User.deleted_at.is_(None))
        return {u.id: u for u in (await self.session.execute(stmt)).scalars()}

    async def ids_for_usernames(self, usernames: Iterable[str]) -> dict[str, uuid.UUID]:
        names = list({n.lower() for n in usernames})
        if not names:
            return {}
        stmt = select(User.username, User.id).where(
            User.username.in_(names), User.deleted_at.is_(None)
        )
        return {r.username: r.id for r in (await self.session.execute(stmt)).all()}

    async def list_page(self, after: uuid.UUID | None, limit: int) -> Sequence[User]:
        stmt = select(User).order_by(User.id).limit(limit)
        if after is not None:
            stmt = stmt.where(User.id > after)
        return (await self.session.execute(stmt)).scalars().all()

    async def count_active(self) -> int:
        stmt = select(func.count()).select_from(User).where(User.deleted_at.is_(None))
        return int((await self.session.execute(stmt)).scalar_one())

    def add(self, user: User) -> None:
        self.session.add(user)


class SessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, obj: AuthSession | RefreshToken) -> None:
        self.session.add(obj)

    async def get_active_session(self, session_id: uuid.UUID, now: datetime) -> AuthSession | None:
        stmt = select(AuthSession).where(
            AuthSession.id == session_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def principal_row(
        self,
        user_id: uuid.UUID,
        session_id: uuid.UUID,
        now: datetime,
        *,
        lock: RowLock = None,
    ) -> User | None:
        """The active user behind an access token whose session is still live.

        ``lock`` locks the user row until the transaction ends (PostgreSQL; SQLite has no
        row locks and ignores it): ``"share"`` keeps the account from being deleted under
        the request, ``"update"`` is for requests that change the account row themselves.
        """
        stmt = (
            select(User)
            .join(AuthSession, AuthSession.user_id == User.id)
            .where(
                User.id == user_id,
                User.deleted_at.is_(None),
                AuthSession.id == session_id,
                AuthSession.revoked_at.is_(None),
                AuthSession.expires_at > now,
            )
        )
        if lock == "share":
            stmt = stmt.with_for_update(read=True, of=User)
        elif lock == "update":
            # NO KEY UPDATE: the mode the request's own UPDATE of the row takes anyway.
            stmt = stmt.with_for_update(key_share=True, of=User)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def list_active_for_user(
        self, user_id: uuid.UUID, now: datetime, before: uuid.UUID | None, limit: int
    ) -> Sequence[AuthSession]:
        """Newest first; ids are UUIDv7, so id order is creation order and a stable cursor."""
        stmt = (
            select(AuthSession)
            .where(
                AuthSession.user_id == user_id,
                AuthSession.revoked_at.is_(None),
                AuthSession.expires_at > now,
            )
            .order_by(AuthSession.id.desc())
            .limit(limit)
        )
        if before is not None:
            stmt = stmt.where(AuthSession.id < before)
        return (await self.session.execute(stmt)).scalars().all()

    async def get_refresh_token(self, token_hash: str) -> RefreshToken | None:
        stmt = select(RefreshToken).where(RefreshToken.token_hash == token_hash)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def mark_rotated(self, token_id: uuid.UUID, now: datetime) -> bool:
        """Atomically claim a refresh token; False when another request already used it."""
        stmt = (
            update(RefreshToken)
            .where(RefreshToken.id == token_id, RefreshToken.rotated_at.is_(None))
            .values(rotated_at=now)
        )
        result = await self.session.execute(stmt)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def revoke_session(self, session_id: uuid.UUID, now: datetime, reason: str) -> bool:
        stmt = (
            update(AuthSession)
            .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason)
        )
        result = await self.session.execute(stmt)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def revoke_all_for_user(
        self, user_id: uuid.UUID, now: datetime, reason: str
    ) -> list[uuid.UUID]:
        """Revoke every live session of the user; returns their ids."""
        stmt = (
            update(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason)
            .returning(AuthSession.id)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def live_session_ids(self, user_id: uuid.UUID) -> list[uuid.UUID]:
        stmt = select(AuthSession.id).where(
            AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def touch(self, session_id: uuid.UUID, now: datetime) -> None:
        stmt = update(AuthSession).where(AuthSession.id == session_id).values(last_used_at=now)
        await self.session.execute(stmt)
