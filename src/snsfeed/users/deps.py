"""Authentication dependencies: ``CurrentUser``, ``OptionalUser``, ``AdminUser`` …

An account deletion withdraws everything the account wrote in its own transaction, so a
write request of that account must never commit after it (a like would outlive the
account). Write requests therefore hold a share lock on their account row (PostgreSQL)
and re-check the account just before commit (SQLite, where the write lock the request
then holds orders it against the deletion). Requests that change the account row
itself (``AccountOwner``) lock it for update instead: two of them holding share locks
and both upgrading would deadlock.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.platform.db import add_pre_commit_check
from snsfeed.platform.deps import SessionDep, SignerDep
from snsfeed.platform.errors import Forbidden, Unauthorized
from snsfeed.platform.security import TokenSigner
from snsfeed.users import service
from snsfeed.users.models import Role
from snsfeed.users.repository import RowLock
from snsfeed.users.schemas import Principal

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _gone() -> Unauthorized:
    return Unauthorized("Session has ended or account no longer exists", code="invalid_token")


async def _authenticate(
    request: Request,
    session: AsyncSession,
    signer: TokenSigner,
    token: str | None,
    lock: RowLock,
) -> Principal | None:
    if token is None:
        if request.headers.get("authorization"):
            raise Unauthorized(
                "Authorization header must be 'Bearer <token>'", code="invalid_token"
            )
        return None
    claims = signer.verify(token)
    if claims is None:
        raise Unauthorized("Access token is invalid or expired", code="invalid_token")
    principal = await service.principal_for_claims(session, claims, lock=lock)
    if principal is None:
        raise _gone()
    request.state.principal = principal
    return principal


async def optional_principal(
    request: Request, session: SessionDep, signer: SignerDep, token: str | None = Depends(_bearer)
) -> Principal | None:
    writes = request.method not in _SAFE_METHODS
    principal = await _authenticate(request, session, signer, token, "share" if writes else None)
    if principal is not None and writes:

        async def account_still_active(s: AsyncSession) -> None:
            if not await service.is_active(s, principal.id):
                raise _gone()

        add_pre_commit_check(session, account_still_active)
    return principal


async def required_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise Unauthorized("Authentication required", code="authentication_required")
    return principal


async def account_owner_principal(
    request: Request, session: SessionDep, signer: SignerDep, token: str | None = Depends(_bearer)
) -> Principal:
    """The caller, for requests that update or delete the caller's own account row."""
    principal = await _authenticate(request, session, signer, token, "update")
    if principal is None:
        raise Unauthorized("Authentication required", code="authentication_required")
    return principal


async def staff_principal(
    principal: Annotated[Principal, Depends(required_principal)],
) -> Principal:
    if not principal.is_staff:
        raise Forbidden("Moderator or admin role required")
    return principal


async def admin_principal(
    principal: Annotated[Principal, Depends(required_principal)],
) -> Principal:
    if principal.role != Role.ADMIN:
        raise Forbidden("Admin role required")
    return principal


OptionalUser = Annotated[Principal | None, Depends(optional_principal)]
CurrentUser = Annotated[Principal, Depends(required_principal)]
AccountOwner = Annotated[Principal, Depends(account_owner_principal)]
StaffUser = Annotated[Principal, Depends(staff_principal)]
AdminUser = Annotated[Principal, Depends(admin_principal)]
