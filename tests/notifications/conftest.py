"""Loopback receivers for the delivery channels, and an app wired to them.

* ``SmtpReceiver``: an aiosmtpd SMTP server on 127.0.0.1 (ephemeral port), in the test loop.
* ``PushReceiver``: an aiohttp server on 127.0.0.1 standing in for a Web Push service
  (``/wp/<name>``) and for FCM's HTTP v1 endpoint (``/fcm``); it can be told to fail.
* ``delivery_app``: the app on each profile, with SMTP, FCM and a short e-mail delay
  pointed at them, and the delivery loop polling fast.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session
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

EMAIL_DELAY = 1.0


class SmtpReceiver:
    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, EmailMessage]] = []
        self.failures_left = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.failures_left > 0:
            self.failures_left -= 1
            return "451 4.3.0 try again later"
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((envelope, message))
        return "250 OK"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="smtp.test", enable_SMTPUTF8=True), "127.0.0.1", 0
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def to(self, address: str) -> list[EmailMessage]:
        return [m for env, m in self.messages if address in env.rcpt_tos]


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


@dataclass
class PushReceiver:
    received: list[Received] = field(default_factory=list)
    # path -> statuses to answer, in order (the last one repeats); default 201.
    script: dict[str, list[int]] = field(default_factory=dict)
    port: int = 0
    runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.received.append(Received(request.path, headers, body))
        statuses = self.script.get(request.path)
        status = 201 if request.path.startswith("/wp/") else 200
        if statuses:
            status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
        return web.json_response({"name": "projects/test/messages/1"}, status=status)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = self.runner.addresses[0][1]

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def clear(self) -> None:
        self.received.clear()
        self.script.clear()


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


async def eventually(check: Callable[[], Any], within: float = 15.0) -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)
