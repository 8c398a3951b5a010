"""OAuth2 token endpoint (RFC 6749), revocation (RFC 7009), JWKS and session management."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import JSONResponse

from snsfeed.platform.deps import HasherDep, SessionDep, SettingsDep, SignerDep
from snsfeed.platform.pagination import MAX_PAGE_SIZE, decode_cursor, encode_cursor
from snsfeed.users import service
from snsfeed.users.deps import CurrentUser
from snsfeed.users.schemas import SessionInfo, SessionList, TokenResponse
from snsfeed.users.service import AuthError, IssuedTokens

router = APIRouter(tags=["auth"])

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_MAX_CLIENT_ID = 100  # the auth_sessions.client_id column width


def _oauth_error(exc: AuthError) -> JSONResponse:
    return JSONResponse(
        {"error": exc.error, "error_description": exc.description},
        status_code=exc.status_code,
        headers=_NO_STORE,
    )


def _token_response(tokens: IssuedTokens) -> JSONResponse:
    body = TokenResponse(
        access_token=tokens.access_token,
        expires_in=tokens.expires_in,
        refresh_token=tokens.refresh_token,
    )
    return JSONResponse(body.model_dump(exclude_none=True), headers=_NO_STORE)


@router.post(
    "/api/v1/auth/token",
    response_model=TokenResponse,
    summary="OAuth2 token endpoint",
    description=(
        "RFC 6749 token endpoint, form-encoded. `grant_type=password` with `username` (or e-mail) "
        "and `password` starts a session; `grant_type=refresh_token` rotates the refresh token. "
        "Errors follow RFC 6749 §5.2 (`{error, error_description}`). Access tokens are ES256 JWTs "
        "valid 15 minutes (keys at `/.well-known/jwks.json`); refresh tokens are opaque, valid "
        "30 days and single-use: replaying a rotated one revokes the whole session."
    ),
    responses={400: {"description": "RFC 6749 error"}, 401: {"description": "invalid_client"}},
)
async def token(
    request: Request,
    session: SessionDep,
    hasher: HasherDep,
    signer: SignerDep,
    settings: SettingsDep,
    grant_type: Annotated[str | None, Form()] = None,
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    refresh_token: Annotated[str | None, Form()] = None,
    scope: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
) -> Response:
    try:
        if grant_type is None:
            raise AuthError("invalid_request", "Missing grant_type")
        # Checked here, not by Form(max_length=…): a bad parameter is an RFC 6749 error too.
        if client_id is not None and len(client_id) > _MAX_CLIENT_ID:
            raise AuthError("invalid_request", f"client_id exceeds {_MAX_CLIENT_ID} characters")
        if grant_type == "password":
            if not username or password is None:
                raise AuthError("invalid_request", "username and password are required")
            tokens = await service.password_grant(
                session,
                hasher,
                signer,
                settings,
                username=username,
                password=password,
                client_id=client_id,
                user_agent=request.headers.get("user-agent"),
                ip_address=request.client.host if request.client else None,
            )
        elif grant_type == "refresh_token":
            if not refresh_token:
                raise AuthError("invalid_request", "refresh_token is required")
            tokens = await service.refresh_grant(
                session, signer, settings, refresh_token=refresh_token
            )
        else:
            raise AuthError("unsupported_grant_type", f"Grant type {grant_type!r} is not supported")
    except AuthError as exc:
        # Returned, not raised: a revocation made while detecting token reuse still commits.
        return _oauth_error(exc)
    return _token_response(tokens)


@router.post(
    "/api/v1/auth/revoke",
    status_code=200,
    summary="Revoke a token (RFC 7009)",
    description=(
        "Revokes the session behind a refresh or access token. Unknown tokens also get 200."
    ),
)
async def revoke(
    session: SessionDep,
    signer: SignerDep,
    token: Annotated[str | None, Form()] = None,
    token_type_hint: Annotated[str | None, Form()] = None,
) -> Response:
    if not token:
        return _oauth_error(AuthError("invalid_request", "token is required"))
    await service.revoke_token(session, signer, token)
    return Response(status_code=200, headers=_NO_STORE)


@router.get("/.well-known/jwks.json", summary="Public keys that verify access tokens")
async def jwks(signer: SignerDep) -> dict[str, Any]:
    return signer.jwks


@router.get(
    "/api/v1/auth/sessions",
    response_model=SessionList,
    summary="My active sessions, newest first",
)
async def my_sessions(
    session: SessionDep,
    principal: CurrentUser,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page")] = None,
) -> SessionList:
    rows = await service.list_sessions(session, principal, decode_cursor(cursor), size)
    return SessionList(
        items=[
            SessionInfo(
                id=s.id,
                created_at=s.created_at,
                last_used_at=s.last_used_at,
                expires_at=s.expires_at,
                user_agent=s.user_agent,
                ip_address=s.ip_address,
                current=s.id == principal.session_id,
            )
            for s in rows
        ],
        next_cursor=encode_cursor(rows[-1].id) if len(rows) == size else None,
    )


@router.delete(
    "/api/v1/auth/sessions/{session_id}",
    status_code=204,
    summary="End one of my sessions (its refresh and access tokens stop working)",
)
async def end_session(
    session_id: uuid.UUID, session: SessionDep, principal: CurrentUser
) -> Response:
    await service.revoke_own_session(session, principal, session_id)
    return Response(status_code=204)
