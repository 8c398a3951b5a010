"""Pieces the benchmark scripts share (imported as a sibling module: run them as scripts)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.config import Settings
from snsfeed.platform.security import TokenSigner, load_signing_key, make_password_hasher
from snsfeed.users import service as users


async def sign_in(
    session: AsyncSession, settings: Settings, usernames: Iterable[str], password: str
) -> list[str]:
    """An access token for each account, issued by the password grant as for a client."""
    hasher = make_password_hasher(settings)
    signer = TokenSigner(load_signing_key(settings), settings)
    tokens = []
    for username in usernames:
        issued = await users.password_grant(
            session,
            hasher,
            signer,
            settings,
            username=username,
            password=password,
            client_id=None,
            user_agent=None,
            ip_address=None,
        )
        tokens.append(issued.access_token)
    return tokens
