"""Notifications across real processes: an API node and a worker, with PostgreSQL, our own
Redis and NATS, and the SMTP server, Web Push service and FCM endpoint on loopback.

A follow written through the API process reaches the worker over JetStream; the worker
creates the notification, and its delivery loop sends the e-mail over SMTP and the pushes
over HTTP to the receivers running in this test.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import http_ece
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from snsfeed.platform.security import write_new_key
from tests.e2e.conftest import Cluster, eventually, follow, free_port, http, register, wait_http
from tests.notifications.receivers import PushReceiver, SmtpReceiver


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _notification_env(tmp: Path, smtp: SmtpReceiver, push: PushReceiver) -> dict[str, str]:
    write_new_key(tmp / "vapid.pem")
    return {
        "SNSFEED_SMTP_HOST": "127.0.0.1",
        "SNSFEED_SMTP_PORT": str(smtp.port),
        "SNSFEED_FCM_ENDPOINT": push.url("/fcm"),
        "SNSFEED_FCM_BEARER_TOKEN": "e2e-token",
        "SNSFEED_VAPID_PRIVATE_KEY_FILE": str(tmp / "vapid.pem"),
        "SNSFEED_PUSH_ALLOW_INSECURE_ENDPOINTS": "true",
        "SNSFEED_NOTIFY_EMAIL_DELAY_SECONDS": "0.5",
        "SNSFEED_NOTIFY_DISPATCH_INTERVAL_SECONDS": "0.1",
    }


async def test_follow_through_api_is_notified_by_the_worker_on_every_channel(
    cluster: Cluster,
) -> None:
    smtp, push = SmtpReceiver(), PushReceiver()
    await smtp.start()
    await push.start()
    try:
        env = _notification_env(cluster.tmp, smtp, push)
        cluster.redis().start()
        cluster.nats().start()
        port = free_port()
        cluster.api(port, env).start()
        cluster.worker(
            "notify-worker", env, consumers=("notifications", "notification-delivery")
        ).start()
        wait_http(port)
        browser_key = ec.generate_private_key(ec.SECP256R1())
        auth = os.urandom(16)
        p256dh = browser_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        async with http(port) as client:
            alice_id, alice = await register(client, "alice")
            _, bob = await register(client, "bob")
            for body in (
                {
                    "kind": "webpush",
                    "endpoint": push.url("/wp/alice"),
                    "keys": {"p256dh": _b64(p256dh), "auth": _b64(auth)},
                },
                {"kind": "fcm", "token": "alice-phone-token"},
            ):
                r = await client.post(
                    "/api/v1/notifications/push-subscriptions", json=body, headers=alice
                )
                assert r.status_code == 201, r.text
            await follow(client, bob, alice_id)

            async def listed() -> bool:
                r = await client.get("/api/v1/notifications", headers=alice)
                return [i["type"] for i in r.json()["items"]] == ["follow"]

            await eventually(listed, within=30)

        async def delivered() -> bool:
            return bool(smtp.to("alice@example.org") and push.at("/wp/alice") and push.at("/fcm"))

        await eventually(delivered, within=30)
        [mail] = smtp.to("alice@example.org")
        assert mail["Subject"] == "@bob님이 회원님을 팔로우하기 시작했습니다."
        [web_push] = push.at("/wp/alice")
        plain = http_ece.decrypt(
            web_push.body, private_key=browser_key, auth_secret=auth, version="aes128gcm"
        )
        assert orjson.loads(plain)["notification_type"] == "follow"
        [fcm] = push.at("/fcm")
        assert orjson.loads(fcm.body)["message"]["token"] == "alice-phone-token"
    finally:
        cluster.stop_all()
        await push.stop()
        await smtp.stop()
