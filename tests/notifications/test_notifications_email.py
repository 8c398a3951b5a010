"""E-mail over SMTP to a local aiosmtpd server: templates, the delay, skipping, retries."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI

from snsfeed.notifications.models import Delivery
from snsfeed.notifications.repository import NotificationRepository
from snsfeed.realtime import publisher
from tests.helpers import Account, Api, eventually
from tests.notifications.conftest import EMAIL_DELAY
from tests.notifications.helpers import notifications
from tests.notifications.receivers import SmtpReceiver


def _address(who: Account) -> str:
    return f"{who.username}@example.org"


async def _email_deliveries(app: FastAPI, who: Account) -> list[Delivery]:
    async with app.state.sessionmaker() as session:
        repo = NotificationRepository(session)
        rows = await repo.all_notifications_of(uuid.UUID(who.id))
        return [d for d in await repo.deliveries_for([n.id for n in rows]) if d.channel == "email"]


async def _settled(app: FastAPI, who: Account) -> Delivery:
    async def done() -> Delivery | None:
        rows = await _email_deliveries(app, who)
        return rows[0] if rows and rows[0].status != "pending" else None

    result: Delivery = await eventually(done)
    return result


async def test_follow_email_has_korean_text_and_html_parts(
    dapi: Api, dclient: httpx.AsyncClient, smtp: SmtpReceiver
) -> None:
    alice = await dapi.register()
    bob = await dapi.register()
    r = await dclient.patch(
        "/api/v1/users/me", json={"full_name": "김철수 <b>"}, headers=bob.headers
    )
    assert r.status_code == 200
    await dapi.follow(bob, alice)
    [mail] = await eventually(lambda: smtp.to(_address(alice)))
    assert mail["Subject"] == f"김철수 <b> (@{bob.username})님이 회원님을 팔로우하기 시작했습니다."
    assert mail["From"].addresses[0].addr_spec == "no-reply@snsfeed.test"
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and html is not None
    assert "회원님을 팔로우하기 시작했습니다" in text.get_content()
    assert "https://snsfeed.test/users/" in text.get_content()
    # The name is user input: escaped in HTML, verbatim in plain text.
    assert "<strong>김철수 &lt;b&gt; (@" in html.get_content()
    assert "김철수 <b>" in text.get_content()


async def test_comment_email_quotes_the_post(
    dapi: Api, dclient: httpx.AsyncClient, smtp: SmtpReceiver
) -> None:
    alice, bob = await dapi.register(), await dapi.register()
    post = await dapi.post(alice, "오늘의 #맛집 은 여기")
    await dapi.comment(bob, post["id"], "가보고 싶어요")
    [mail] = await eventually(lambda: smtp.to(_address(alice)))
    body = mail.get_body(("plain",))
    assert body is not None
    assert "> 오늘의 #맛집 은 여기" in body.get_content()
    assert f"https://snsfeed.test/content/{post['id']}" in body.get_content()


async def test_email_waits_for_the_configured_delay(
    delivery_app: FastAPI, dapi: Api, dclient: httpx.AsyncClient
) -> None:
    alice, bob = await dapi.register(), await dapi.register()
    await dapi.follow(bob, alice)
    await notifications(dclient, alice)
    [delivery] = await _email_deliveries(delivery_app, alice)
    waited = (delivery.next_attempt_at - delivery.created_at).total_seconds()
    assert waited == EMAIL_DELAY


async def test_email_is_skipped_when_read_before_it_is_due(
    delivery_app: FastAPI, dapi: Api, dclient: httpx.AsyncClient, smtp: SmtpReceiver
) -> None:
    alice, bob = await dapi.register(), await dapi.register()
    await dapi.follow(bob, alice)
    await notifications(dclient, alice)
    r = await dclient.post("/api/v1/notifications/read", headers=alice.headers)
    assert r.status_code == 204
    delivery = await _settled(delivery_app, alice)
    assert (delivery.status, delivery.last_error) == ("skipped", "read already")
    assert smtp.to(_address(alice)) == []


async def test_email_is_skipped_while_the_user_is_connected(
    delivery_app: FastAPI, dapi: Api, dclient: httpx.AsyncClient, smtp: SmtpReceiver
) -> None:
    alice, bob = await dapi.register(), await dapi.register()
    redis = delivery_app.state.redis
    user = uuid.UUID(alice.id)

    def deliver(_: bytes) -> None:
        pass

    # A stream is open: in-process in the embedded profile, Redis presence otherwise.
    if redis is None:
        publisher.local_hub.subscribe(user, deliver)
    else:
        await redis.set(f"{publisher.PRESENCE_KEY}{user}", 1, ex=60)
    try:
        await dapi.follow(bob, alice)
        delivery = await _settled(delivery_app, alice)
    finally:
        publisher.local_hub.unsubscribe(user, deliver)
    assert (delivery.status, delivery.last_error) == ("skipped", "seen online")
    assert smtp.to(_address(alice)) == []


async def test_email_setting_off_sends_no_email(
    delivery_app: FastAPI, dapi: Api, dclient: httpx.AsyncClient
) -> None:
    alice, bob = await dapi.register(), await dapi.register()
    r = await dclient.patch(
        "/api/v1/notifications/settings", json={"follow": {"email": False}}, headers=alice.headers
    )
    assert r.status_code == 200
    await dapi.follow(bob, alice)
    assert len(await notifications(dclient, alice)) == 1
    assert await _email_deliveries(delivery_app, alice) == []


async def test_email_turned_off_while_waiting_is_not_sent(
    delivery_app: FastAPI, dapi: Api, dclient: httpx.AsyncClient, smtp: SmtpReceiver
) -> None:
    alice, bob = await dapi.register(), await dapi.register()
    await dapi.follow(bob, alice)
    await notifications(dclient, alice)
    r = await dclient.patch(
        "/api/v1/notifications/settings", json={"follow": {"email": False}}, headers=alice.headers
    )
    assert r.status_code == 200
    delivery = await _settled(delivery_app, alice)
    assert (delivery.status, delivery.last_error) == ("skipped", "turned off in settings")


async def test_temporary_smtp_failure_is_retried(
    delivery_app: FastAPI, dapi: Api, dclient: httpx.AsyncClient, smtp: SmtpReceiver
) -> None:
    smtp.failures_left = 2
    alice, bob = await dapi.register(), await dapi.register()
    await dapi.follow(bob, alice)
    await eventually(lambda: smtp.to(_address(alice)))
    delivery = await _settled(delivery_app, alice)
    assert (delivery.status, delivery.attempts) == ("sent", 3)
