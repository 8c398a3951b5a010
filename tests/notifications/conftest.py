"""Loopback receivers (``receivers.py``) for the delivery channels, and an app wired to them.

``delivery_app`` is the app on each profile, with SMTP and FCM pointed at the receivers, a
short e-mail delay and the delivery loop polling fast.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from snsfeed.app import create_app
from tests.conftest import (
    NATS_URL,
    REDIS_APP_URL,
    SettledTransport,
    _drop_stream,
    base_settings,
    require_nats,
    require_redis,
    reset_state,
    temporary_database,
)
from tests.helpers import Api
from tests.notifications.receivers import PushReceiver, SmtpReceiver

EMAIL_DELAY = 1.0


@pytest.fixture(scope="module")
async def smtp() -> AsyncIterator[SmtpReceiver]:
    receiver = SmtpReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture(scope="module")
async def push() -> AsyncIterator[PushReceiver]:
    receiver = PushReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


def _delivery_settings(tmp: Path, smtp: SmtpReceiver, push: PushReceiver, **extra: Any) -> Any:
    return base_settings(
        tmp,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_from="snsfeed 알림 <no-reply@snsfeed.test>",
        fcm_endpoint=push.url("/fcm"),
        fcm_bearer_token="test-bearer-token",
        notify_email_delay_seconds=EMAIL_DELAY,
        notify_dispatch_interval_seconds=0.05,
        notify_retry_delays_seconds=(0.1, 0.2),
        notify_max_attempts=3,
        notify_send_timeout_seconds=5.0,
        notify_public_url="https://snsfeed.test",
        bus_poll_interval_seconds=0.02,
        **extra,
    )


@pytest.fixture(scope="module", params=["embedded", "services"])
async def delivery_app(
    request: pytest.FixtureRequest,
    smtp: SmtpReceiver,
    push: PushReceiver,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[FastAPI]:
    tmp = tmp_path_factory.mktemp(f"delivery-{request.param}")
    if request.param == "embedded":
        application = create_app(_delivery_settings(tmp, smtp, push))
        async with application.router.lifespan_context(application):
            yield application
        return
    await require_redis()
    require_nats()
    stream = f"SNSFEED_NTEST_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    async with temporary_database() as url:
        settings = _delivery_settings(
            tmp,
            smtp,
            push,
            database_url=url,
            redis_url=REDIS_APP_URL,
            broker_url=NATS_URL,
            nats_stream=stream,
            nats_subject_prefix=f"{stream.lower()}.events",
            api_consumers=True,
            bus_retry_delays_seconds=(0.05, 0.2),
        )
        application = create_app(settings)
        try:
            async with application.router.lifespan_context(application):
                yield application
        finally:
            await _drop_stream(stream)


@pytest.fixture
async def dclient(
    delivery_app: FastAPI, smtp: SmtpReceiver, push: PushReceiver
) -> AsyncIterator[httpx.AsyncClient]:
    await reset_state(delivery_app)
    smtp.messages.clear()
    smtp.failures_left = 0
    push.clear()
    transport = SettledTransport(app=delivery_app, client=("203.0.113.9", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def dapi(dclient: httpx.AsyncClient) -> Api:
    return Api(dclient)
