"""The ``notification-delivery`` loop: sends due push and e-mail deliveries, with retries.

Deliveries are rows written with their notification (``service.notify``). The loop leases a
batch of due rows (``lease_until``; attempts counted at the lease), sends each one outside
any transaction, each with its own timeout, and records the outcome in a transaction of its
own. So a slow or failing channel delays only its own deliveries: the in-app notification
is already committed, and other users' deliveries run beside it. A failure is retried after
``notify_retry_delays_seconds`` until ``notify_max_attempts``; a dispatcher that dies while
sending leaves a lease that expires, and the delivery is sent again (at least once).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from snsfeed.content import service as content
from snsfeed.notifications.channels import PermanentFailure, TargetGone
from snsfeed.notifications.channels.email import EmailSender
from snsfeed.notifications.channels.fcm import FcmSender
from snsfeed.notifications.channels.webpush import WebPushSender
from snsfeed.notifications.messages import Rendered, render
from snsfeed.notifications.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    Notification,
    NotificationType,
    PushKind,
    PushSubscription,
)
from snsfeed.notifications.repository import NotificationRepository
from snsfeed.notifications.service import channel_settings, preview
from snsfeed.platform.bus.consumer import ConsumerContext, sleep_or_stop
from snsfeed.platform.bus.retry import delay_after
from snsfeed.platform.time import utcnow
from snsfeed.realtime import publisher
from snsfeed.users import service as users

log = structlog.get_logger("snsfeed.notifications")


@dataclass
class Senders:
    email: EmailSender
    webpush: WebPushSender
    fcm: FcmSender


def senders_for(ctx: ConsumerContext) -> Senders:
    found = ctx.extras.get("notification_senders")
    if found is None:
        s = ctx.settings
        found = Senders(EmailSender(s), WebPushSender(s), FcmSender(s))
        ctx.extras["notification_senders"] = found
    assert isinstance(found, Senders)
    return found


@dataclass(frozen=True)
class Job:
    """A delivery ready to send: everything read from SQL before the network call."""

    delivery_id: uuid.UUID
    channel: Channel
    message: Rendered
    notification: Notification
    to: str | None = None  # e-mail address
    subscription: PushSubscription | None = None


async def _skip_reason(
    session: AsyncSession, ctx: ConsumerContext, d: Delivery, n: Notification
) -> str | None:
    channel = Channel(d.channel)
    wanted = (await channel_settings(session, d.recipient_id))[NotificationType(n.type)]
    if not wanted[channel]:
        return "turned off in settings"
    if channel == Channel.EMAIL:
        if not ctx.settings.smtp_host:
            return "e-mail not configured"
        if n.read_at is not None:
            return "read already"
        if d.recipient_id in await publisher.connected(ctx.redis, [d.recipient_id]):
            return "seen online"
    return None


async def _prepare(
    session: AsyncSession, ctx: ConsumerContext, delivery_id: uuid.UUID
) -> Job | None:
    """Load what the send needs, or settle the delivery without sending (returns None)."""
    repo = NotificationRepository(session)
    d = await repo.delivery(delivery_id)
    if d is None or d.status != DeliveryStatus.PENDING.value:
        return None  # withdrawn with its notification, or settled by another dispatcher
    n = await repo.get(d.notification_id)
    recipient = await users.get_active(session, d.recipient_id)
    if n is None or recipient is None:
        _settle(d, DeliveryStatus.SKIPPED, "recipient or notification gone")
        return None
    reason = await _skip_reason(session, ctx, d, n)
    subscription = None
    if reason is None and d.channel == Channel.PUSH.value:
        subscription = await repo.subscription(uuid.UUID(d.target))
        if subscription is None or subscription.user_id != d.recipient_id:
            reason = "subscription removed"
    if reason is not None:
        _settle(d, DeliveryStatus.SKIPPED, reason)
        return None
    actors = await users.summaries(session, [n.actor_id, recipient.id])
    if n.actor_id not in actors:
        _settle(d, DeliveryStatus.SKIPPED, "actor gone")
        return None
    text = None
    if n.content_id is not None:
        post = (await content.get_many(session, [n.content_id])).get(n.content_id)
        if post is None:
            _settle(d, DeliveryStatus.SKIPPED, "post deleted")
            return None
        text = preview(post.text)
    base = ctx.settings.notify_public_url.rstrip("/")
    url = f"{base}/content/{n.content_id}" if n.content_id else f"{base}/users/{n.actor_id}"
    message = render(NotificationType(n.type), actors[n.actor_id], actors[recipient.id], text, url)
    return Job(d.id, Channel(d.channel), message, n, recipient.email, subscription)


def _settle(d: Delivery, status: DeliveryStatus, note: str | None = None) -> None:
    d.status = status.value
    d.finished_at = utcnow()
    d.lease_until = None
    d.last_error = note


def push_payload(job: Job) -> dict[str, Any]:
    n = job.notification
    return {
        "type": "notification",
        "notification_id": str(n.id),
        "notification_type": n.type,
        "title": job.message.title,
        "url": job.message.url,
        "content_id": str(n.content_id) if n.content_id else None,
    }


async def _send(senders: Senders, job: Job) -> None:
    if job.channel == Channel.EMAIL:
        assert job.to is not None
        await senders.email.send(job.to, job.message)
        return
    sub = job.subscription
    assert sub is not None
    payload = push_payload(job)
    if sub.kind == PushKind.WEBPUSH.value:
        assert sub.p256dh is not None and sub.auth is not None
        topic = job.notification.id.hex[:32]
        body = orjson.dumps(payload).decode()
        await senders.webpush.send(sub.endpoint, sub.p256dh, sub.auth, body, topic)
    else:
        # FCM data values must be strings.
        data = {k: str(v) for k, v in payload.items() if v is not None}
        await senders.fcm.send(sub.endpoint, "snsfeed", job.message.title, data)


async def deliver(ctx: ConsumerContext, delivery_id: uuid.UUID) -> None:
    """Send one leased delivery and record what happened."""
    async with ctx.sessionmaker() as session:
        job = await _prepare(session, ctx, delivery_id)
        await session.commit()
    if job is None:
        return
    error: BaseException | None = None
    try:
        await asyncio.wait_for(
            _send(senders_for(ctx), job), timeout=ctx.settings.notify_send_timeout_seconds
        )
    except Exception as exc:
        error = exc
    async with ctx.sessionmaker() as session:
        repo = NotificationRepository(session)
        d = await repo.delivery(delivery_id)
        if d is None:
            return
        if error is None:
            _settle(d, DeliveryStatus.SENT)
        elif isinstance(error, TargetGone):
            _settle(d, DeliveryStatus.SKIPPED, f"target gone: {error}")
            if job.subscription is not None:
                await repo.delete_subscription(job.subscription.user_id, job.subscription.id)
        elif isinstance(error, PermanentFailure) or d.attempts >= ctx.settings.notify_max_attempts:
            _settle(d, DeliveryStatus.FAILED, repr(error))
        else:
            delay = delay_after(d.attempts, ctx.settings.notify_retry_delays_seconds)
            d.next_attempt_at = utcnow() + timedelta(seconds=delay)
            d.lease_until = None
            d.last_error = repr(error)
        if error is not None:
            log.warning(
                "notification_delivery_failed",
                delivery=str(delivery_id),
                channel=job.channel.value,
                attempts=d.attempts,
                status=d.status,
                error=repr(error),
            )
        await session.commit()


async def dispatch_once(ctx: ConsumerContext) -> int:
    """Lease the due deliveries and send them concurrently; how many were leased."""
    s = ctx.settings
    now = utcnow()
    async with ctx.sessionmaker() as session:
        ids = await NotificationRepository(session).claim_due(
            now, now + timedelta(seconds=s.notify_lease_seconds), s.notify_dispatch_batch_size
        )
        await session.commit()
    if not ids:
        return 0
    gate = asyncio.Semaphore(s.notify_dispatch_concurrency)

    async def one(delivery_id: uuid.UUID) -> None:
        async with gate:
            try:
                await deliver(ctx, delivery_id)
            except Exception as exc:  # database trouble: the lease expires, it comes back
                log.warning(
                    "notification_delivery_error", delivery=str(delivery_id), error=repr(exc)
                )

    await asyncio.gather(*(one(i) for i in ids))
    return len(ids)


async def run_dispatcher(ctx: ConsumerContext, stopping: asyncio.Event) -> None:
    interval = ctx.settings.notify_dispatch_interval_seconds
    while not stopping.is_set():
        try:
            leased = await dispatch_once(ctx)
        except Exception as exc:  # database unavailable: back off, keep going
            log.warning("notification_dispatch_failed", error=repr(exc))
            leased = 0
            await sleep_or_stop(stopping, max(interval, 1.0))
        if not leased:
            await sleep_or_stop(stopping, interval)
