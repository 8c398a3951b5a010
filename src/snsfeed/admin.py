"""Administrative use cases for the CLI, run in their own unit of work."""

from __future__ import annotations

from snsfeed.config import Settings
from snsfeed.platform import cache
from snsfeed.platform.db import create_engine, create_sessionmaker, session_scope
from snsfeed.platform.redis import create_redis
from snsfeed.users import service as users
from snsfeed.users.models import Role


async def set_role_by_username(settings: Settings, username: str, role: str) -> None:
    try:
        new_role = Role(role)
    except ValueError:
        raise ValueError(f"unknown role {role!r}; use user, moderator or admin") from None
    engine = create_engine(settings.resolved_database_url)
    # A CLI process has no runtime: borrow a Redis-backed cache so that the running API
    # processes hear about the change (their cached principals carry the old role).
    previous = cache.current()
    redis = create_redis(settings) if previous.redis is None else None
    if redis is not None:
        cache.install(cache.NearCache(redis))
    try:
        async for session in session_scope(create_sessionmaker(engine)):
            user = await users.get_by_username(session, username)
            if user is None:
                raise ValueError(f"no active account named {username!r}")
            await users.assign_role(session, user, new_role)
    finally:
        cache.install(previous)
        if redis is not None:
            await redis.aclose()
        await engine.dispose()
