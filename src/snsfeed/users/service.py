"""Account and authentication use cases. Services flush; the request edge commits."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.config import Settings
from snsfeed.platform import cache
from snsfeed.platform.errors import Conflict, NotFound
from snsfeed.platform.events import emit
from snsfeed.platform.ids import text_of
from snsfeed.platform.security import (
    TokenSigner,
    hash_opaque_token,
    new_opaque_token,
    verify_password,
)
from snsfeed.platform.time import utcnow
from snsfeed.users.models import AuthSession, RefreshToken, Role, User
from snsfeed.users.repository import RowLock, SessionRepository, UserRepository
from snsfeed.users.schemas import Principal, ProfileUpdate, RegisterRequest, UserSummary

# A hash of a random password, verified when the login name is unknown so that the
# response time does not reveal which accounts exist.
_DUMMY_HASH_CACHE: dict[int, str] = {}


class AuthError(Exception):
    """An OAuth2 error (RFC 6749 §5.2); the token endpoint renders it."""

    def __init__(self, error: str, description: str, status_code: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status_code = status_code


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int


async def register(session: AsyncSession, hasher: PasswordHasher, data: RegisterRequest) -> User:
    repo = UserRepository(session)
    username = data.username.lower()
    email = data.email.strip().lower()
    name_taken, email_taken = await repo.username_or_email_taken(username, email)
    if name_taken:
        raise Conflict("Username is already taken", code="username_taken")
    if email_taken:
        raise Conflict("E-mail address is already registered", code="email_taken")
    now = utcnow()
    user = User(
        username=username,
        email=email,
        password_hash=hasher.hash(data.password),
        full_name=data.full_name,
        bio=data.bio,
        role=Role.USER.value,
        created_at=now,
        updated_at=now,
    )
    repo.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent registration won the race
        raise Conflict(
            "Username or e-mail address is already taken", code="account_exists"
        ) from exc
    await emit(
        session,
        "user.registered",
        actor_id=user.id,
        key=user.id,
        payload={"user_id": str(user.id), "username": user.username},
    )
    return user


async def get_active(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await UserRepository(session).get(user_id)


async def is_active(session: AsyncSession, user_id: uuid.UUID) -> bool:
    return await UserRepository(session).is_active(user_id)


async def get_active_or_404(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await UserRepository(session).get(user_id)
    if user is None:
        raise NotFound("User not found")
    return user


async def get_by_username(session: AsyncSession, username: str) -> User | None:
    return await UserRepository(session).get_by_username(username)


def summary_key(user_id: uuid.UUID) -> str:
    return f"c:user:{text_of(user_id)}"


def principal_key(session_id: uuid.UUID | str) -> str:
    return f"c:auth:{session_id}"


async def summaries(
    session: AsyncSession, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, UserSummary]:
    """Author summaries of active accounts; deleted accounts are simply absent."""
    return {
        uid: UserSummary.model_construct(**{**doc, "id": uid})
        for uid, doc in (await summary_documents(session, ids)).items()
    }


async def summary_documents(
    session: AsyncSession, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """Author summaries as JSON documents, from the near cache (SQL on a miss).

    Every change to what a summary shows (profile, role, deletion) invalidates it.
    """
    wanted = set(ids)
    near = cache.current()
    epoch = near.epoch
    hits = await near.get_many(summary_key(u) for u in wanted)
    found = {u: hits[k] for u in wanted if (k := summary_key(u)) in hits}
    missing = wanted - found.keys()
    if missing:
        loaded = {
            uid: summary_of(u).model_dump(mode="json")
            for uid, u in (await UserRepository(session).get_many(missing)).items()
        }
        await near.put_many({summary_key(u): d for u, d in loaded.items()}, since_epoch=epoch)
        found.update(loaded)
    return found


def _forget_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    cache.invalidate_after_commit(session, summary_key(user_id))


def _forget_sessions(session: AsyncSession, session_ids: Iterable[uuid.UUID]) -> None:
    cache.invalidate_after_commit(session, *(principal_key(s) for s in session_ids))


def summary_of(user: User) -> UserSummary:
    return UserSummary(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        profile_pic_url=user.profile_pic_url,
        verified=user.verified,
    )


async def active_ids(session: AsyncSession, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    return set((await UserRepository(session).get_many(ids)).keys())


async def resolve_usernames(
    session: AsyncSession, usernames: Iterable[str]
) -> dict[str, uuid.UUID]:
    return await UserRepository(session).ids_for_usernames(usernames)


async def update_profile(session: AsyncSession, user: User, data: ProfileUpdate) -> User:
    changes = data.model_dump(exclude_unset=True)
    if "profile_pic_url" in changes and changes["profile_pic_url"] is not None:
        changes["profile_pic_url"] = str(changes["profile_pic_url"])
    for field, value in changes.items():
        setattr(user, field, value)
    if changes:
        user.updated_at = utcnow()
        await session.flush()
        _forget_user(session, user.id)
        if "username" in changes:  # principals carry it
            _forget_sessions(session, await SessionRepository(session).live_session_ids(user.id))
        await emit(
            session,
            "user.updated",
            actor_id=user.id,
            key=user.id,
            payload={"user_id": str(user.id), "fields": sorted(changes)},
        )
    return user


async def delete_account(session: AsyncSession, user: User) -> None:
    """Soft delete: the account and everything it wrote vanish from every read."""
    now = utcnow()
    user.deleted_at = now
    user.updated_at = now
    revoked = await SessionRepository(session).revoke_all_for_user(user.id, now, "account_deleted")
    await session.flush()
    _forget_user(session, user.id)
    _forget_sessions(session, revoked)
    await emit(
        session, "user.deleted", actor_id=user.id, key=user.id, payload={"user_id": str(user.id)}
    )


async def assign_role(session: AsyncSession, user: User, role: Role) -> None:
    user.role = role.value
    user.updated_at = utcnow()
    await session.flush()
    # Principals carry the role: every live session must be read again.
    _forget_sessions(session, await SessionRepository(session).live_session_ids(user.id))


async def set_role(session: AsyncSession, user_id: uuid.UUID, role: Role, actor: Principal) -> User:
    user = await get_active_or_404(session, user_id)
    await assign_role(session, user, role)
    await emit(
        session,
        "user.role_changed",
        actor_id=actor.id,
        key=user.id,
        payload={"user_id": str(user.id), "role": role.value},
    )
    return user


async def list_all(session: AsyncSession, after: uuid.UUID | None, limit: int) -> Sequence[User]:
    return await UserRepository(session).list_page(after, limit)


# --- authentication -------------------------------------------------------------------------


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = id(hasher)
    if key not in _DUMMY_HASH_CACHE:
        _DUMMY_HASH_CACHE[key] = hasher.hash(new_opaque_token())
    return _DUMMY_HASH_CACHE[key]


async def password_grant(
    session: AsyncSession,
    hasher: PasswordHasher,
    signer: TokenSigner,
    settings: Settings,
    *,
    username: str,
    password: str,
    client_id: str | None,
    user_agent: str | None,
    ip_address: str | None,
) -> IssuedTokens:
    user = await UserRepository(session).get_by_login(username)
    if user is None:
        verify_password(hasher, _dummy_hash(hasher), password)
        raise AuthError("invalid_grant", "Invalid username or password")
    if not verify_password(hasher, user.password_hash, password):
        raise AuthError("invalid_grant", "Invalid username or password")
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    now = utcnow()
    auth_session = AuthSession(
        user_id=user.id,
        client_id=client_id,
        user_agent=(user_agent or "")[:300] or None,
        ip_address=ip_address,
        created_at=now,
        last_used_at=now,
        expires_at=now + timedelta(seconds=settings.refresh_token_ttl_seconds),
    )
    repo = SessionRepository(session)
    repo.add(auth_session)
    await session.flush()
    return await _issue(repo, signer, settings, user, auth_session)


async def refresh_grant(
    session: AsyncSession, signer: TokenSigner, settings: Settings, *, refresh_token: str
) -> IssuedTokens:
    repo = SessionRepository(session)
    now = utcnow()
    token = await repo.get_refresh_token(hash_opaque_token(refresh_token))
    if token is None or token.expires_at <= now:
        raise AuthError("invalid_grant", "Refresh token is invalid or expired")
    if token.rotated_at is not None or not await repo.mark_rotated(token.id, now):
        # Replay of a rotated token: assume it leaked and end the whole session (RFC 9700 §4.14.2).
        await repo.revoke_session(token.session_id, now, "refresh_token_reuse")
        _forget_sessions(session, [token.session_id])
        raise AuthError("invalid_grant", "Refresh token was already used; the session is revoked")
    auth_session = await repo.get_active_session(token.session_id, now)
    if auth_session is None:
        raise AuthError("invalid_grant", "Session has ended")
    user = await UserRepository(session).get(auth_session.user_id)
    if user is None:
        raise AuthError("invalid_grant", "Account no longer exists")
    auth_session.last_used_at = now
    return await _issue(repo, signer, settings, user, auth_session)


async def _issue(
    repo: SessionRepository,
    signer: TokenSigner,
    settings: Settings,
    user: User,
    auth_session: AuthSession,
) -> IssuedTokens:
    now = utcnow()
    raw = new_opaque_token()
    repo.add(
        RefreshToken(
            session_id=auth_session.id,
            token_hash=hash_opaque_token(raw),
            created_at=now,
            # A rotated token never outlives its session.
            expires_at=min(
                now + timedelta(seconds=settings.refresh_token_ttl_seconds), auth_session.expires_at
            ),
        )
    )
    await repo.session.flush()
    access = signer.issue(subject=str(user.id), session_id=str(auth_session.id), role=user.role)
    return IssuedTokens(access_token=access, refresh_token=raw, expires_in=signer.ttl_seconds)


async def revoke_token(session: AsyncSession, signer: TokenSigner, token: str) -> None:
    """RFC 7009: revoke the session behind a refresh or access token; unknown tokens are fine."""
    repo = SessionRepository(session)
    now = utcnow()
    refresh = await repo.get_refresh_token(hash_opaque_token(token))
    if refresh is not None:
        await repo.revoke_session(refresh.session_id, now, "revoked")
        _forget_sessions(session, [refresh.session_id])
        return
    claims = signer.verify(token)
    if claims is not None:
        sid = uuid.UUID(claims["sid"])
        await repo.revoke_session(sid, now, "revoked")
        _forget_sessions(session, [sid])


def _ids_of(claims: dict[str, object]) -> tuple[uuid.UUID, uuid.UUID] | None:
    try:
        return uuid.UUID(str(claims["sub"])), uuid.UUID(str(claims["sid"]))
    except (KeyError, ValueError):
        return None


# Principals built from L1 documents, by session id: reused while L1 holds the very same
# document (any change replaces or drops it), which spares parsing ids per request.
_built_principals: dict[str, tuple[object, Principal]] = {}
_MAX_BUILT_PRINCIPALS = 50_000


def remembered_principal(claims: dict[str, Any]) -> Principal | None:
    """``cached_principal`` from this process's L1 alone, without I/O; None: not there."""
    near = cache.current()
    session_id = claims.get("sid")
    if near.redis is None or not isinstance(session_id, str):
        return None
    doc = near.get_local(principal_key(session_id))
    if doc is None or doc["user_id"] != claims.get("sub"):
        return None
    built = _built_principals.get(session_id)
    if built is not None and built[0] is doc:
        return built[1]
    ids = _ids_of(claims)
    if ids is None:
        return None
    principal = _principal_of(doc, *ids)
    if len(_built_principals) >= _MAX_BUILT_PRINCIPALS:
        cache.drop_oldest_quarter(_built_principals)
    _built_principals[session_id] = (doc, principal)
    return principal


async def cached_principal(claims: dict[str, Any]) -> Principal | None:
    """The principal behind verified claims if the shared near cache knows it, else None.

    Only a cache shared through Redis is trusted: then a revocation, deletion or role
    change made by any process has reached it. Callers fall back to
    ``principal_for_claims``, which reads (and caches) the row.
    """
    if (known := remembered_principal(claims)) is not None:
        return known
    ids = _ids_of(claims)
    near = cache.current()
    if ids is None or near.redis is None:
        return None
    key = principal_key(ids[1])
    doc = (await near.get_many([key])).get(key)
    if doc is None or doc["user_id"] != str(ids[0]):
        return None
    return _principal_of(doc, *ids)


def _principal_of(doc: dict[str, Any], user_id: uuid.UUID, session_id: uuid.UUID) -> Principal:
    return Principal(
        id=user_id, username=doc["username"], role=Role(doc["role"]), session_id=session_id
    )


async def principal_for_claims(
    session: AsyncSession, claims: dict[str, object], *, lock: RowLock = None
) -> Principal | None:
    """The active user behind verified claims. Writes always read (and lock) the row."""
    ids = _ids_of(claims)
    if ids is None:
        return None
    if lock is None and (known := await cached_principal(claims)) is not None:
        return known
    user_id, session_id = ids
    near = cache.current()
    epoch = near.epoch
    user = await SessionRepository(session).principal_row(user_id, session_id, utcnow(), lock=lock)
    if user is None:
        return None
    if near.redis is not None:
        doc = {"user_id": str(user.id), "username": user.username, "role": user.role}
        await near.put_many({principal_key(session_id): doc}, since_epoch=epoch)
    return Principal(
        id=user.id, username=user.username, role=Role(user.role), session_id=session_id
    )


async def list_sessions(
    session: AsyncSession, principal: Principal, before: uuid.UUID | None, limit: int
) -> Sequence[AuthSession]:
    return await SessionRepository(session).list_active_for_user(
        principal.id, utcnow(), before, limit
    )


async def revoke_own_session(
    session: AsyncSession, principal: Principal, session_id: uuid.UUID
) -> None:
    repo = SessionRepository(session)
    target = await repo.get_active_session(session_id, utcnow())
    if target is None or target.user_id != principal.id:
        raise NotFound("Session not found")
    await repo.revoke_session(session_id, utcnow(), "revoked")
    _forget_sessions(session, [session_id])
