"""Authentication dependencies: ``CurrentUser``, ``OptionalUser``, ``AdminUser`` …"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from snsfeed.platform.deps import SessionDep, SignerDep
from snsfeed.platform.errors import Forbidden, Unauthorized
from snsfeed.users import service
from snsfeed.users.models import Role
from snsfeed.users.schemas import Principal

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def optional_principal(
    request: Request, session: SessionDep, signer: SignerDep, token: str | None = Depends(_bearer)
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
    principal = await service.principal_for_claims(session, claims)
    if principal is None:
        raise Unauthorized("Session has ended or account no longer exists", code="invalid_token")
    request.state.principal = principal
    return principal


async def required_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
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
StaffUser = Annotated[Principal, Depends(staff_principal)]
AdminUser = Annotated[Principal, Depends(admin_principal)]
