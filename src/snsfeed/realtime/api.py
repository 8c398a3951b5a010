"""``/ws/feed``: the real-time stream of a user's home feed and notifications.

Authentication, with the same access token as the REST API, in one of three ways:

* ``Authorization: Bearer <token>`` header (non-browser clients);
* ``Sec-WebSocket-Protocol: snsfeed.bearer, <token>`` (browsers: keeps the token out of
  URLs and logs; the server answers with ``snsfeed.bearer``);
* ``?access_token=<token>`` query parameter (simplest, but URLs end up in logs).

A missing, invalid or expired token closes the stream with code 4401 right after the
handshake; so does the token expiring while the stream is open, unless the client sent a
fresh one first (``{"type": "auth", "access_token": …}``).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import orjson
import structlog
from fastapi import APIRouter, WebSocket
from pydantic import ValidationError
from starlette.websockets import WebSocketDisconnect

from snsfeed.feed import service as feed
from snsfeed.platform.ids import parse_uuid
from snsfeed.platform.security import TokenSigner
from snsfeed.realtime.hub import RealtimeHub, RealtimeUnavailable
from snsfeed.realtime.schemas import Auth, CatchUp, Ping, Subscribe, Unsubscribe, client_message
from snsfeed.realtime.stream import CloseCode, Stream
from snsfeed.users import service as users
from snsfeed.users.schemas import Principal

log = structlog.get_logger(__name__)

router = APIRouter(tags=["realtime"])

BEARER_PROTOCOL = "snsfeed.bearer"
PONG = orjson.dumps({"type": "pong"})


def _dump(kind: str, data: Any = None) -> bytes:
    return orjson.dumps({"type": kind} if data is None else {"type": kind, "data": data})


def _error(code: str, message: str, details: Any = None) -> bytes:
    return orjson.dumps(
        {"type": "error", "error": {"code": code, "message": message, "details": details}}
    )


def _token_of(websocket: WebSocket) -> tuple[str | None, str | None]:
    """(token, subprotocol to answer with)."""
    offered = list(websocket.scope.get("subprotocols") or [])
    if BEARER_PROTOCOL in offered:
        others = [p for p in offered if p != BEARER_PROTOCOL]
        return (others[0] if others else None), BEARER_PROTOCOL
    header = websocket.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip(), None
    return websocket.query_params.get("access_token") or None, None


async def _authenticate(websocket: WebSocket, token: str) -> tuple[Principal, float] | None:
    """The principal and the token's expiry (epoch seconds), or None."""
    signer: TokenSigner = websocket.app.state.signer
    claims = signer.verify(token)
    if claims is None:
        return None
    async with websocket.app.state.sessionmaker() as session:
        principal = await users.principal_for_claims(session, claims)
    return None if principal is None else (principal, float(claims["exp"]))


def _schedule_expiry(stream: Stream, expires_at: float) -> None:
    if stream.expiry is not None:
        stream.expiry.cancel()
    delay = max(0.0, expires_at - time.time())
    stream.expiry = asyncio.get_running_loop().call_later(
        delay, stream.close, CloseCode.UNAUTHORIZED, "access token expired"
    )


@router.websocket("/ws/feed")
async def feed_stream(websocket: WebSocket) -> None:
    settings = websocket.app.state.settings
    hub: RealtimeHub = websocket.app.state.realtime
    token, subprotocol = _token_of(websocket)
    auth = await _authenticate(websocket, token) if token else None
    await websocket.accept(subprotocol=subprotocol)
    if auth is None:
        reason = "authentication required" if token is None else "invalid or expired access token"
        await websocket.close(CloseCode.UNAUTHORIZED, reason)
        return
    principal, expires_at = auth
    stream = Stream(principal.id, settings.realtime_queue_size)
    try:
        if not await hub.attach(stream):
            await websocket.close(CloseCode.TOO_MANY, "too many open streams for this account")
            return
    except RealtimeUnavailable:
        await websocket.close(1011, "real-time delivery unavailable")
        return
    try:
        _schedule_expiry(stream, expires_at)
        stream.reply(
            _dump(
                "welcome",
                {
                    "user_id": str(principal.id),
                    "expires_at": int(expires_at),
                    "heartbeat_seconds": settings.realtime_heartbeat_seconds,
                    "channels": ["feed_updates", "notifications"],
                },
            )
        )
        sender = asyncio.create_task(
            stream.run_sender(
                websocket.send_text, websocket.close, settings.realtime_send_timeout_seconds
            )
        )
        receiver = asyncio.create_task(_receive(websocket, stream, principal.id))
        await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        for task in (sender, receiver):
            task.cancel()
        for outcome in await asyncio.gather(sender, receiver, return_exceptions=True):
            if isinstance(outcome, Exception) and not isinstance(
                outcome, WebSocketDisconnect | asyncio.CancelledError
            ):
                log.debug("stream_ended", error=repr(outcome))
    finally:
        await hub.detach(stream)


async def _receive(websocket: WebSocket, stream: Stream, user_id: uuid.UUID) -> None:
    limit = websocket.app.state.settings.realtime_max_message_bytes
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        raw = message.get("text")
        if raw is None:
            raw = (message.get("bytes") or b"").decode("utf-8", "replace")
        if len(raw) > limit:
            stream.close(CloseCode.TOO_BIG, f"messages are limited to {limit} bytes")
            return
        await _handle(websocket, stream, user_id, raw)


async def _handle(websocket: WebSocket, stream: Stream, user_id: uuid.UUID, raw: str) -> None:
    try:
        request = client_message.validate_json(raw)
    except ValidationError as exc:
        details = exc.errors(include_url=False, include_context=False, include_input=False)
        stream.reply(_error("invalid_message", "Not a valid /ws/feed message", details))
        return
    if isinstance(request, Subscribe):
        stream.channels.add(request.channel)
        stream.reply(_dump("subscribed", {"channel": request.channel}))
    elif isinstance(request, Unsubscribe):
        stream.channels.discard(request.channel)
        stream.reply(_dump("unsubscribed", {"channel": request.channel}))
    elif isinstance(request, Ping):
        stream.reply(PONG)
    elif isinstance(request, CatchUp):
        await _catch_up(websocket, stream, user_id, request)
    elif isinstance(request, Auth):
        await _reauthenticate(websocket, stream, user_id, request)


async def _catch_up(
    websocket: WebSocket, stream: Stream, user_id: uuid.UUID, request: CatchUp
) -> None:
    last_seen = parse_uuid(request.last_seen_id)
    if last_seen is None:
        stream.reply(_error("invalid_last_seen_id", "last_seen_id must be a post id (UUID)"))
        return
    # Live delivery restarts before the query runs, so nothing falls between the two;
    # a post may arrive both ways, and clients de-duplicate by id.
    stream.resume()
    async with websocket.app.state.sessionmaker() as session:
        result = await feed.refresh(session, user_id, last_seen, request.size)
    stream.reply(_dump("catch_up", result))


async def _reauthenticate(
    websocket: WebSocket, stream: Stream, user_id: uuid.UUID, request: Auth
) -> None:
    auth = await _authenticate(websocket, request.access_token)
    if auth is None or auth[0].id != user_id:
        stream.reply(_error("invalid_token", "Access token is invalid, expired or not yours"))
        return
    _schedule_expiry(stream, auth[1])
    stream.reply(_dump("authenticated", {"expires_at": int(auth[1])}))
