"""Loopback stand-ins for the outside world the delivery channels talk to.

* ``SmtpReceiver``: an aiosmtpd SMTP server on 127.0.0.1 (ephemeral port), in the test loop.
* ``PushReceiver``: an aiohttp server on 127.0.0.1 standing in for a Web Push service
  (``/wp/<name>``) and for FCM's HTTP v1 endpoint (``/fcm``); it can be told to fail.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session


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
