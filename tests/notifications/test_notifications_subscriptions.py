"""Registering and removing push devices; the real-time copy of a new notification."""

from __future__ import annotations

import asyncio
import base64
import uuid
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from snsfeed.config import Settings
from snsfeed.notifications import service
from snsfeed.notifications.schemas import WebPushKeys, WebPushSubscriptionIn
from snsfeed.platform.errors import Unprocessable
from snsfeed.realtime import publisher
from tests.helpers import Api

P256DH = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
AUTH = "tBHItJI5svbpez7KI4CCXg"
URL = "/api/v1/notifications/push-subscriptions"


def webpush(endpoint: str = "https://push.example.net/abc") -> dict[str, Any]:
    return {"kind": "webpush", "endpoint": endpoint, "keys": {"p256dh": P256DH, "auth": AUTH}}


async def test_register_list_and_remove(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    r = await client.post(URL, json=webpush(), headers=alice.headers)
    assert r.status_code == 201, r.text
    sub = r.json()
    assert (sub["kind"], sub["endpoint"]) == ("webpush", "https://push.example.net/abc")
    listed = (await client.get(URL, headers=alice.headers)).json()["items"]
    assert [s["id"] for s in listed] == [sub["id"]]
    r = await client.delete(f"{URL}/{sub['id']}", headers=alice.headers)
    assert r.status_code == 204
    assert (await client.get(URL, headers=alice.headers)).json()["items"] == []


async def test_registering_again_updates_instead_of_duplicating(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice = await api.register()
    first = await client.post(URL, json=webpush(), headers=alice.headers)
    again = await client.post(URL, json=webpush(), headers=alice.headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]


async def test_a_device_registered_by_another_account_moves_to_it(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice, bob = await api.register(), await api.register()
    await client.post(URL, json=webpush(), headers=alice.headers)
    await client.post(URL, json=webpush(), headers=bob.headers)
    assert (await client.get(URL, headers=alice.headers)).json()["items"] == []
    assert len((await client.get(URL, headers=bob.headers)).json()["items"]) == 1


async def test_removing_someone_elses_subscription_is_a_404(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice, bob = await api.register(), await api.register()
    sub = (await client.post(URL, json=webpush(), headers=alice.headers)).json()
    r = await client.delete(f"{URL}/{sub['id']}", headers=bob.headers)
    assert r.status_code == 404
    assert len((await client.get(URL, headers=alice.headers)).json()["items"]) == 1


@pytest.mark.parametrize(
    "body",
    [
        {
            "kind": "webpush",
            "endpoint": "https://x.net/a",
            "keys": {"p256dh": "AAAA", "auth": AUTH},
        },
        {"kind": "webpush", "endpoint": "https://x.net/a", "keys": {"p256dh": P256DH, "auth": "!"}},
        {"kind": "webpush", "endpoint": "not a url", "keys": {"p256dh": P256DH, "auth": AUTH}},
        {
            "kind": "webpush",
            "endpoint": "https://x.net/" + "a" * 1100,
            "keys": {"p256dh": P256DH, "auth": AUTH},
        },
        {"kind": "fcm", "token": "short"},
        {"kind": "fcm", "token": "has spaces in it"},
        {"kind": "carrier-pigeon", "token": "x" * 20},
        {"kind": "fcm"},
    ],
)
async def test_malformed_subscriptions_are_422(
    api: Api, client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    alice = await api.register()
    r = await client.post(URL, json=body, headers=alice.headers)
    assert r.status_code == 422, r.text


async def test_fcm_without_an_endpoint_configured_is_409(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice = await api.register()
    r = await client.post(URL, json={"kind": "fcm", "token": "device-token"}, headers=alice.headers)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "push_not_configured"


async def test_plain_http_endpoint_is_refused_in_production(app: FastAPI) -> None:
    settings = Settings(
        **{**app.state.settings.model_dump(), "push_allow_insecure_endpoints": False}
    )
    data = WebPushSubscriptionIn(
        kind="webpush",
        endpoint="http://push.example.net/a",
        keys=WebPushKeys(p256dh=P256DH, auth=AUTH),
    )
    async with app.state.sessionmaker() as session:
        with pytest.raises(Unprocessable) as refused:
            await service.register_subscription(session, settings, uuid.uuid4(), data)
    assert refused.value.code == "insecure_endpoint"


async def test_vapid_public_key_is_an_uncompressed_p256_point(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice = await api.register()
    r = await client.get(f"{URL}/vapid-public-key", headers=alice.headers)
    assert r.status_code == 200
    raw = base64.urlsafe_b64decode(r.json()["public_key"] + "==")
    assert len(raw) == 65 and raw[0] == 4


async def test_new_notification_is_published_on_the_recipients_stream(
    app: FastAPI, api: Api, client: httpx.AsyncClient
) -> None:
    alice, bob = await api.register(), await api.register()
    user = uuid.UUID(alice.id)
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    redis = app.state.redis
    if redis is None:

        def deliver(data: bytes) -> None:
            received.put_nowait(orjson.loads(data))

        publisher.local_hub.subscribe(user, deliver)
    else:
        pubsub = redis.pubsub()
        await pubsub.subscribe(publisher.user_channel(user))
    try:
        await api.follow(bob, alice)
        if redis is None:
            message = await asyncio.wait_for(received.get(), timeout=15)
        else:
            raw = None
            async with asyncio.timeout(15):
                while raw is None:
                    raw = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            message = orjson.loads(raw["data"])
    finally:
        if redis is None:
            publisher.local_hub.unsubscribe(user, deliver)
        else:
            await pubsub.aclose()
    assert message["type"] == "notification"
    assert message["data"]["type"] == "follow"
    assert message["data"]["actor"]["username"] == bob.username
