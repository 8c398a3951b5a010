"""Web Push (VAPID, aes128gcm) and FCM HTTP v1 to a local receiver; retries and isolation."""

from __future__ import annotations

import base64
import os
import uuid
from typing import Any

import http_ece
import httpx
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from py_vapid import Vapid02

from snsfeed.notifications.models import Delivery
from snsfeed.notifications.repository import NotificationRepository
from tests.helpers import Account, Api, eventually
from tests.notifications.helpers import notifications
from tests.notifications.receivers import PushReceiver


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Browser:
    """A browser's side of a Web Push subscription: its key pair and auth secret."""

    def __init__(self, push: PushReceiver) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.path = f"/wp/{uuid.uuid4().hex}"
        self.endpoint = push.url(self.path)

    def subscription(self) -> dict[str, Any]:
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "kind": "webpush",
            "endpoint": self.endpoint,
            "keys": {"p256dh": _b64(public), "auth": _b64(self.auth)},
        }

    def decrypt(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(
            body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        payload: dict[str, Any] = orjson.loads(plain)
        return payload


async def _register(client: httpx.AsyncClient, who: Account, body: dict[str, Any]) -> str:
    r = await client.post(
        "/api/v1/notifications/push-subscriptions", json=body, headers=who.headers
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _push_deliveries(app: FastAPI, who: Account) -> list[Delivery]:
    async with app.state.sessionmaker() as session:
        repo = NotificationRepository(session)
        rows = await repo.all_notifications_of(uuid.UUID(who.id))
        return [d for d in await repo.deliveries_for([n.id for n in rows]) if d.channel == "push"]


async def _settled_push(app: FastAPI, who: Account) -> Delivery:
    async def done() -> Delivery | None:
        rows = await _push_deliveries(app, who)
        return rows[0] if rows and rows[0].status != "pending" else None

    result: Delivery = await eventually(done)
    return result


async def test_web_push_is_encrypted_for_the_browser_and_signed_with_vapid(
    dapi: Api, dclient: httpx.AsyncClient, push: PushReceiver
) -> None:
    alice, bob = await dapi.register(), await dapi.register()
    browser = Browser(push)
    await _register(dclient, alice, browser.subscription())
    post = await dapi.post(alice, "서울 #맛집")
    await dapi.like(bob, post["id"])
    [request] = await eventually(lambda: push.at(browser.path))
    payload = browser.decrypt(request.body)
    assert payload["notification_type"] == "like"
    assert payload["content_id"] == post["id"]
    assert payload["title"] == f"@{bob.username}님이 회원님의 게시물을 좋아합니다."
    assert request.headers["content-encoding"] == "aes128gcm"
    assert int(request.headers["ttl"]) > 0
    # RFC 8292: "vapid t=<JWT>, k=<public key>", the key being the server's published one.
    authorization = request.headers["authorization"]
    assert Vapid02.verify(authorization)
    r = await dclient.get(
        "/api/v1/notifications/push-subscriptions/vapid-public-key", headers=alice.headers
    )
    assert authorization.endswith(f"k={r.json()['public_key']}")


async def test_fcm_push_posts_a_v1_message_with_the_bearer_token(
    dapi: Api, dclient: httpx.AsyncClient, push: PushReceiver
) -> None:
    alice, bob = await dapi.register(), await dapi.register()
    await _register(dclient, alice, {"kind": "fcm", "token": "device-token-123"})
    await dapi.follow(bob, alice)
    [request] = await eventually(lambda: push.at("/fcm"))
    assert request.headers["authorization"] == "Bearer test-bearer-token"
    message = orjson.loads(request.body)["message"]
    assert message["token"] == "device-token-123"
    assert (
        message["notification"]["body"] == f"@{bob.username}님이 회원님을 팔로우하기 시작했습니다."
    )
    assert message["data"]["notification_type"] == "follow"
    assert all(isinstance(v, str) for v in message["data"].values())


async def test_failing_push_is_retried_with_backoff_until_it_succeeds(
    delivery_app: FastAPI, dapi: Api, dclient: httpx.AsyncClient, push: PushReceiver
) -> None:
    alice, bob = await dapi.register(), await dapi.register()
    browser = Browser(push)
    push.script[browser.path] = [503, 500, 201]
    await _register(dclient, alice, browser.subscription())
    await dapi.follow(bob, alice)
    delivery = await _settled_push(delivery_app, alice)
    assert (delivery.status, delivery.attempts) == ("sent", 3)
    assert len(push.at(browser.path)) == 3


async def test_push_gives_up_after_the_last_attempt(
    delivery_app: FastAPI, dapi: Api, dclient: httpx.AsyncClient, push: PushReceiver
) -> None:
    alice, bob = await dapi.register(), await dapi.register()
    browser = Browser(push)
    push.script[browser.path] = [500]
    await _register(dclient, alice, browser.subscription())
    await dapi.follow(bob, alice)
    delivery = await _settled_push(delivery_app, alice)
    assert (delivery.status, delivery.attempts) == ("failed", 3)


async def test_expired_subscription_is_removed(
    delivery_app: FastAPI, dapi: Api, dclient: httpx.AsyncClient, push: PushReceiver
) -> None:
    alice, bob = await dapi.register(), await dapi.register()
    browser = Browser(push)
    push.script[browser.path] = [410]
    await _register(dclient, alice, browser.subscription())
    await dapi.follow(bob, alice)
    delivery = await _settled_push(delivery_app, alice)
    assert delivery.status == "skipped"
    r = await dclient.get("/api/v1/notifications/push-subscriptions", headers=alice.headers)
    assert r.json()["items"] == []


async def test_a_failing_push_service_blocks_neither_in_app_nor_other_users(
    delivery_app: FastAPI, dapi: Api, dclient: httpx.AsyncClient, push: PushReceiver
) -> None:
    alice, bob, carol = await dapi.register(), await dapi.register(), await dapi.register()
    broken, working = Browser(push), Browser(push)
    push.script[broken.path] = [500]
    await _register(dclient, alice, broken.subscription())
    await _register(dclient, carol, working.subscription())
    await dapi.follow(bob, alice)
    await dapi.follow(bob, carol)
    assert len(await notifications(dclient, alice)) == 1  # in-app, whatever push does
    await eventually(lambda: push.at(working.path))
    assert (await _push_deliveries(delivery_app, alice))[0].status in ("pending", "failed")


async def test_push_setting_off_sends_no_push(
    delivery_app: FastAPI, dapi: Api, dclient: httpx.AsyncClient
) -> None:
    alice, bob = await dapi.register(), await dapi.register()
    await _register(dclient, alice, {"kind": "fcm", "token": "device-token-off"})
    r = await dclient.patch(
        "/api/v1/notifications/settings", json={"follow": {"push": False}}, headers=alice.headers
    )
    assert r.status_code == 200
    await dapi.follow(bob, alice)
    assert len(await notifications(dclient, alice)) == 1
    assert await _push_deliveries(delivery_app, alice) == []


async def test_every_device_of_the_user_gets_the_push(
    dapi: Api, dclient: httpx.AsyncClient, push: PushReceiver
) -> None:
    alice, bob = await dapi.register(), await dapi.register()
    phone, laptop = Browser(push), Browser(push)
    await _register(dclient, alice, phone.subscription())
    await _register(dclient, alice, laptop.subscription())
    await dapi.follow(bob, alice)
    await eventually(lambda: push.at(phone.path) and push.at(laptop.path))
