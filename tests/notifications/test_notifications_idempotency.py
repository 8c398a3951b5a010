"""A redelivered event never creates a second notification, push or e-mail.

Forced redelivery three ways: the same event handed to the handler again, the SQL-log
group's offset wound back (embedded), and the event published to JetStream again under a
new message id, so the broker's duplicate window cannot drop it (services).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from snsfeed.notifications.consumers import handle
from snsfeed.notifications.repository import NotificationRepository
from snsfeed.platform.bus.envelope import Event
from snsfeed.platform.bus.models import ConsumerOffset
from snsfeed.platform.outbox import OutboxEvent
from tests.helpers import Account, Api
from tests.notifications.helpers import notifications

P256DH = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
AUTH = "tBHItJI5svbpez7KI4CCXg"


async def _subscribe(client: httpx.AsyncClient, who: Account) -> None:
    r = await client.post(
        "/api/v1/notifications/push-subscriptions",
        json={
            "kind": "webpush",
            "endpoint": f"http://127.0.0.1:9/push/{uuid.uuid4()}",
            "keys": {"p256dh": P256DH, "auth": AUTH},
        },
        headers=who.headers,
    )
    assert r.status_code == 201, r.text


async def _events(app: FastAPI, type_: str) -> list[Event]:
    async with app.state.sessionmaker() as session:
        rows = await session.execute(select(OutboxEvent).where(OutboxEvent.type == type_))
        return [Event.from_outbox(r) for r in rows.scalars()]


async def _state(app: FastAPI, who: Account) -> tuple[int, list[tuple[str, str]]]:
    """(notifications, [(channel, target) of their deliveries])."""
    async with app.state.sessionmaker() as session:
        repo = NotificationRepository(session)
        rows = await repo.all_notifications_of(uuid.UUID(who.id))
        deliveries = await repo.deliveries_for([n.id for n in rows])
        return len(rows), [(d.channel, d.target) for d in deliveries]


async def _liked_once(
    api: Api, client: httpx.AsyncClient
) -> tuple[Account, Account, dict[str, Any]]:
    """Alice, with a push device, has a post that Bob liked; the bus has handled it."""
    alice, bob = await api.register(), await api.register()
    await _subscribe(client, alice)
    post = await api.post(alice)
    await api.like(bob, post["id"])
    assert len(await notifications(client, alice)) == 1
    return alice, bob, post


async def test_same_event_handled_again_changes_nothing(
    app: FastAPI, api: Api, client: httpx.AsyncClient
) -> None:
    alice, _, _ = await _liked_once(api, client)
    before = await _state(app, alice)
    assert before[0] == 1 and len(before[1]) == 1  # one notification, one push delivery
    [event] = await _events(app, "engagement.liked")
    ctx = app.state.runtime.consumer_context
    for _ in range(2):
        async with app.state.sessionmaker() as session:
            await handle(session, event, ctx)
            await session.commit()
    assert await _state(app, alice) == before


async def test_redelivered_mention_event_notifies_once(
    app: FastAPI, api: Api, client: httpx.AsyncClient
) -> None:
    alice, bob = await api.register(), await api.register()
    await api.post(alice, f"@{bob.username} hi")
    await notifications(client, bob)
    [event] = await _events(app, "content.created")
    async with app.state.sessionmaker() as session:
        await handle(session, event, app.state.runtime.consumer_context)
        await session.commit()
    assert (await _state(app, bob))[0] == 1


async def test_late_like_event_after_unlike_creates_nothing(
    app: FastAPI, api: Api, client: httpx.AsyncClient
) -> None:
    alice, bob, post = await _liked_once(api, client)
    [event] = await _events(app, "engagement.liked")
    r = await client.delete(f"/api/v1/content/{post['id']}/like", headers=bob.headers)
    assert r.status_code == 204
    assert await notifications(client, alice) == []
    async with app.state.sessionmaker() as session:
        await handle(session, event, app.state.runtime.consumer_context)
        await session.commit()
    assert await _state(app, alice) == (0, [])


# The outbox log is the embedded profile's bus.
@pytest.mark.parametrize("app", ["embedded"], indirect=True)
async def test_rewound_outbox_log_changes_nothing(
    app: FastAPI, api: Api, client: httpx.AsyncClient
) -> None:
    alice, _, _ = await _liked_once(api, client)
    before = await _state(app, alice)
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(ConsumerOffset).where(ConsumerOffset.name == "notifications").values(last_seq=0)
        )
        await session.commit()
    await app.state.runtime.bus.wait_idle(within_seconds=30)
    async with app.state.sessionmaker() as session:
        offset = await session.get(ConsumerOffset, "notifications")
        assert offset is not None and offset.last_seq > 0  # it did read the log again
    assert await _state(app, alice) == before


# JetStream is the services profile's bus.
@pytest.mark.parametrize("app", ["services"], indirect=True)
async def test_event_published_again_to_jetstream_changes_nothing(
    app: FastAPI, api: Api, client: httpx.AsyncClient
) -> None:
    alice, _, _ = await _liked_once(api, client)
    before = await _state(app, alice)
    [event] = await _events(app, "engagement.liked")
    bus = app.state.runtime.bus
    prefix = app.state.settings.nats_subject_prefix
    ack = await bus.js.publish(
        f"{prefix}.{event.type}",
        event.to_json(),
        headers={"Nats-Msg-Id": f"again-{uuid.uuid4()}"},
    )
    assert not ack.duplicate
    await bus.wait_idle(within_seconds=30)
    assert await _state(app, alice) == before
