"""The /ws/feed protocol over a real socket, on both profiles: authentication, channels,
pings and heartbeats, token expiry, catch-up."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from snsfeed.platform.security import TokenSigner, load_signing_key
from snsfeed.realtime.publisher import connected, publish
from tests.helpers import Api
from tests.realtime.conftest import expect_nothing_before_sentinel, open_ws, settle


async def test_stream_without_token_is_closed_with_4401(ws_url: str, client: Any) -> None:
    stream = await open_ws(ws_url, None, welcome=False)
    assert await stream.closed() == (4401, "authentication required")


async def test_stream_with_invalid_token_is_closed_with_4401(ws_url: str, client: Any) -> None:
    stream = await open_ws(ws_url, "not-a-jwt", welcome=False)
    assert await stream.closed() == (4401, "invalid or expired access token")


async def test_stream_of_ended_session_is_closed_with_4401(api: Api, ws_url: str) -> None:
    alice = await api.register()
    r = await api.client.post("/api/v1/auth/revoke", data={"token": alice.refresh_token})
    assert r.status_code == 200, r.text
    stream = await open_ws(ws_url, alice.access_token, welcome=False)
    assert (await stream.closed())[0] == 4401


@pytest.mark.parametrize("how", ["header", "query", "subprotocol"])
async def test_stream_accepts_the_access_token_three_ways(api: Api, ws: Any, how: str) -> None:
    alice = await api.register()
    stream = await ws(alice.access_token, how=how, welcome=False)
    hello = await stream.recv()
    assert hello["type"] == "welcome"
    assert hello["data"]["user_id"] == alice.id
    if how == "subprotocol":
        assert stream.conn.subprotocol == "snsfeed.bearer"


async def test_subscribe_and_unsubscribe_are_acknowledged(api: Api, ws: Any) -> None:
    stream = await ws((await api.register()).access_token)
    await stream.send({"type": "subscribe", "channel": "notifications"})
    assert await stream.recv() == {"type": "subscribed", "data": {"channel": "notifications"}}
    await stream.send({"type": "unsubscribe", "channel": "notifications"})
    assert await stream.recv() == {"type": "unsubscribed", "data": {"channel": "notifications"}}


async def test_unknown_channel_is_an_error_not_a_close(api: Api, ws: Any) -> None:
    stream = await ws((await api.register()).access_token)
    await stream.send({"type": "subscribe", "channel": "everything"})
    reply = await stream.recv()
    assert reply["type"] == "error"
    assert reply["error"]["code"] == "invalid_message"
    await stream.send({"type": "ping"})
    assert await stream.recv() == {"type": "pong"}


async def test_malformed_json_is_an_error(api: Api, ws: Any) -> None:
    stream = await ws((await api.register()).access_token)
    await stream.conn.send("{not json")
    reply = await stream.recv()
    assert reply["type"] == "error"
    assert reply["error"]["code"] == "invalid_message"


async def test_oversized_message_closes_with_1009(api: Api, ws: Any) -> None:
    stream = await ws((await api.register()).access_token)
    await stream.conn.send("x" * 10_000)
    assert (await stream.closed())[0] == 1009


async def test_ping_is_answered_with_pong(api: Api, ws: Any) -> None:
    stream = await ws((await api.register()).access_token)
    await stream.send({"type": "ping"})
    assert await stream.recv() == {"type": "pong"}


async def test_heartbeat_reaches_every_stream(api: Api, ws: Any, app: FastAPI) -> None:
    first = await ws((await api.register()).access_token)
    second = await ws((await api.register()).access_token)
    await app.state.realtime.beat()
    assert await first.recv() == {"type": "heartbeat"}
    assert await second.recv() == {"type": "heartbeat"}


async def test_connected_users_are_present_and_others_not(api: Api, ws: Any, app: FastAPI) -> None:
    alice, bob = await api.register(), await api.register()
    await ws(alice.access_token)
    import uuid

    online = await connected(app.state.redis, [uuid.UUID(alice.id), uuid.UUID(bob.id)])
    assert online == {uuid.UUID(alice.id)}


async def test_too_many_streams_for_one_account_are_refused(
    api: Api, ws: Any, app: FastAPI
) -> None:
    alice = await api.register()
    for _ in range(app.state.settings.realtime_max_streams_per_user):
        await ws(alice.access_token)
    extra = await ws(alice.access_token, welcome=False)
    assert (await extra.closed())[0] == 4429


def _short_lived_token(app: FastAPI, token: str, seconds: int) -> str:
    settings = app.state.settings
    claims = app.state.signer.verify(token)
    signer = TokenSigner(
        load_signing_key(settings),
        settings.model_copy(update={"access_token_ttl_seconds": seconds}),
    )
    return signer.issue(subject=claims["sub"], session_id=claims["sid"], role=claims["role"])


async def test_expired_token_closes_the_stream_with_4401(api: Api, ws: Any, app: FastAPI) -> None:
    alice = await api.register()
    stream = await ws(_short_lived_token(app, alice.access_token, 1))
    assert await stream.closed(within=5) == (4401, "access token expired")


async def test_fresh_token_extends_the_stream(api: Api, ws: Any, app: FastAPI) -> None:
    alice = await api.register()
    stream = await ws(_short_lived_token(app, alice.access_token, 30))
    await stream.send({"type": "auth", "access_token": alice.access_token})
    reply = await stream.recv()
    assert reply["type"] == "authenticated"
    assert reply["data"]["expires_at"] == app.state.signer.verify(alice.access_token)["exp"]


async def test_token_of_another_account_does_not_extend_the_stream(api: Api, ws: Any) -> None:
    alice, bob = await api.register(), await api.register()
    stream = await ws(alice.access_token)
    await stream.send({"type": "auth", "access_token": bob.access_token})
    reply = await stream.recv()
    assert reply["type"] == "error"
    assert reply["error"]["code"] == "invalid_token"


async def test_catch_up_answers_like_feed_refresh(api: Api, ws: Any, app: FastAPI) -> None:
    alice, bob = await api.register(), await api.register()
    await api.follow(bob, alice)
    first = await api.post(alice, "one")
    await api.post(alice, "two")
    await api.post(alice, "three", visibility="followers")
    await settle(app)
    stream = await ws(bob.access_token)
    await stream.send({"type": "catch_up", "last_seen_id": first["id"]})
    reply = await stream.recv_type("catch_up")
    refresh = await api.client.get(
        "/api/v1/feed/refresh", headers={**bob.headers, "X-Last-Seen-Id": first["id"]}
    )
    assert reply["data"] == refresh.json()
    assert [i["content"]["text"] for i in reply["data"]["new_items"]] == ["three", "two"]


async def test_catch_up_with_a_bad_id_is_an_error(api: Api, ws: Any) -> None:
    stream = await ws((await api.register()).access_token)
    await stream.send({"type": "catch_up", "last_seen_id": "yesterday"})
    reply = await stream.recv()
    assert reply["error"]["code"] == "invalid_last_seen_id"


async def test_notifications_reach_only_streams_subscribed_to_them(
    api: Api, ws: Any, app: FastAPI
) -> None:
    import uuid

    alice = await api.register()
    notified = await ws(alice.access_token)
    await notified.subscribe("notifications")
    feed_only = await ws(alice.access_token)
    await feed_only.subscribe("feed_updates")
    message = {"type": "notification", "data": {"id": "n1", "kind": "follow"}}
    await publish(app.state.redis, uuid.UUID(alice.id), message)
    assert await notified.recv_type("notification") == message
    await expect_nothing_before_sentinel(app, feed_only, alice.id)
