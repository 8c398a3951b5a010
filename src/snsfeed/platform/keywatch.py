"""Server-assisted client-side caching: Redis tells this process when keys it read change.

A process may keep what it read from Redis and answer from memory for as long as Redis
has not reported a change to the keys involved. This uses Redis's own client tracking
(``CLIENT TRACKING ON REDIRECT``): every connection that reads a watched key has
tracking turned on, and Redis sends an invalidation for each key those connections read
to one listening connection per process (RESP2, subscribed to ``__redis__:invalidate``)
the first time the key is modified afterwards.

How a reader uses it (``stamp`` before the read, ``unchanged`` to trust it later)::

    stamp = watch.stamp(keys)          # before sending the read
    value = await tracked read(keys)   # through a connection ``track``-ed for this watch
    remember(value, stamp)             # trusted while watch.unchanged(keys, stamp)

Taking the stamp before the read closes the race where the invalidation of a write
that followed the read arrives on the listener before the read's own reply.

Nothing is trusted while the listener is not subscribed; losing it forgets everything,
because invalidations sent meanwhile are lost (a new listener has a new client id, and
connections re-enable tracking towards it before their next read). A flush of the
database arrives as an invalidation of everything. Writes this process makes itself are
reported through ``changed`` at once, so a process reads its own writes without waiting
for Redis's message.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
import structlog
from redis.asyncio.connection import parse_url
from redis.commands.core import AsyncScript as Script
from redis.exceptions import NoScriptError

log = structlog.get_logger("snsfeed.keywatch")

CHANNEL = "__redis__:invalidate"
# How tracked readers' connections show in ``CLIENT LIST``.
CLIENT_NAME = "snsfeed-tracked-read"
# The listener pings this often; a silent connection for three intervals is replaced.
PING_SECONDS = 5.0
# Distinct changed keys remembered before everything is forgotten at once (bounded memory).
MAX_CHANGED_KEYS = 200_000

Stamp = tuple[int, ...]

# Callers bound their reads themselves (the listener with its pings, readers with the
# caller's timeout); redis-py's own read timeout would also cost a task per read.
_NO_READ_TIMEOUT: dict[str, Any] = {"socket_timeout": None, "socket_connect_timeout": 1.0}


class TrackedConnection(aioredis.Connection):
    """A connection that knows for which listener its reads are tracked (if any).

    Reconnecting starts a new server-side client without tracking, hence the reset.
    """

    tracking_generation: int | None = None

    async def on_connect_check_health(self, check_health: bool = True) -> None:
        self.tracking_generation = None
        await super().on_connect_check_health(check_health=check_health)


class KeyWatch:
    def __init__(self, redis_url: str | None = None) -> None:
        self.redis_url = redis_url
        # Bumped whenever everything read before must be forgotten.
        self.generation = 0
        # The listener's client id while it is subscribed; None: trust nothing.
        self.redirect_id: int | None = None
        self._changes: dict[str, int] = {}
        self._listener: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        return self.redirect_id is not None

    def stamp(self, keys: Sequence[str]) -> Stamp | None:
        """The state of ``keys`` as of now; None when reads cannot be trusted at all."""
        if self.redirect_id is None:
            return None
        changes = self._changes
        return (self.generation, *[changes.get(key, 0) for key in keys])

    def unchanged(self, keys: Sequence[str], stamp: Stamp | None) -> bool:
        return stamp is not None and stamp == self.stamp(keys)

    def changed(self, keys: Sequence[str]) -> None:
        changes = self._changes
        if len(changes) >= MAX_CHANGED_KEYS:
            self.forget_all()
            return
        for key in keys:
            changes[key] = changes.get(key, 0) + 1

    def forget_all(self) -> None:
        self.generation += 1
        self._changes = {}

    async def track(self, connection: TrackedConnection) -> bool:
        """Point ``connection``'s tracking at the current listener; False when none is up."""
        redirect_id, generation = self.redirect_id, self.generation
        if redirect_id is None:
            return False
        if not connection.is_connected:
            # Here, not inside the next send: that would reset it after this check.
            await connection.connect()  # type: ignore[no-untyped-call]
        if connection.tracking_generation != generation:
            await connection.send_command("CLIENT", "TRACKING", "ON", "REDIRECT", redirect_id)
            await connection.read_response()
            connection.tracking_generation = generation
        return True

    # the listener
    def start(self) -> None:
        if self.redis_url and self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="redis-key-watch")

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
            self._listener = None
        self._lost()

    def _lost(self) -> None:
        self.redirect_id = None
        self.forget_all()

    async def _listen(self) -> None:
        assert self.redis_url is not None
        while True:
            conn: aioredis.Connection | None = None
            pinger: asyncio.Task[None] | None = None
            try:
                # RESP2: invalidations then arrive as ordinary pub/sub messages.
                conn = aioredis.Connection(
                    **{**parse_url(self.redis_url), **_NO_READ_TIMEOUT, "protocol": 2}
                )
                await conn.connect()  # type: ignore[no-untyped-call]
                await conn.send_command("CLIENT", "ID")
                client_id = int(await conn.read_response())
                await conn.send_command("SUBSCRIBE", CHANNEL)
                await conn.read_response()
                self.forget_all()
                self.redirect_id = client_id
                pinger = asyncio.create_task(self._ping(conn))
                while True:
                    async with asyncio.timeout(PING_SECONDS * 3):
                        message = await conn.read_response()
                    self._receive(message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a lost connection or an unexpected reply: start over
                log.warning("key_watch_lost", error=repr(exc))
            finally:
                self._lost()
                if pinger is not None:
                    pinger.cancel()
                    with contextlib.suppress(BaseException):
                        await pinger
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.disconnect()
            await asyncio.sleep(1.0)

    async def _ping(self, conn: aioredis.Connection) -> None:
        while True:
            await asyncio.sleep(PING_SECONDS)
            await conn.send_command("PING")

    def _receive(self, message: Any) -> None:
        if not isinstance(message, list) or len(message) != 3 or message[0] != b"message":
            return  # the replies to our pings
        keys = message[2]
        if keys is None:  # FLUSHDB / FLUSHALL: every key changed
            self.forget_all()
        else:
            self.changed([key.decode() for key in keys])


class TrackedReader:
    """Reads whose keys Redis tracks for a watch, over a few connections of its own.

    Its own small set of connections rather than a redis-py pool: each read must know
    its connection (to turn tracking on), and the pool's bookkeeping per checkout cost
    more than the read itself on the feed's hot path.
    """

    def __init__(self, redis_url: str, watch: KeyWatch, *, max_connections: int = 16) -> None:
        self.watch = watch
        self._kwargs: dict[str, Any] = {
            **parse_url(redis_url),
            **_NO_READ_TIMEOUT,
            "client_name": CLIENT_NAME,
        }
        self._idle: list[TrackedConnection] = []
        self._closed = False
        self._slots = asyncio.Semaphore(max_connections)

    @staticmethod
    def supports(redis_url: str) -> bool:
        """Plain TCP URLs only (a unix socket or TLS needs another connection class)."""
        return "connection_class" not in parse_url(redis_url)

    async def evalsha(
        self, script: Script, keys: Sequence[str], args: Sequence[Any]
    ) -> tuple[Any, Stamp | None]:
        """Run a read-only script; the reply, and its stamp when Redis tracks what it read.

        ``keys`` are both the script's keys and the keys the stamp covers.
        """
        async with self._slots:
            if self._idle:
                try:
                    return await self._evalsha(self._idle.pop(), script, keys, args)
                except (ConnectionError, OSError, aioredis.ConnectionError):
                    # It outlived its server (a restart), and so did the other idle ones:
                    # the read is retried once, on a new connection.
                    await self.aclose(for_good=False)
            return await self._evalsha(TrackedConnection(**self._kwargs), script, keys, args)

    async def _evalsha(
        self, conn: TrackedConnection, script: Script, keys: Sequence[str], args: Sequence[Any]
    ) -> tuple[Any, Stamp | None]:
        try:
            stamp = self.watch.stamp(keys)
            if stamp is not None and not await self.watch.track(conn):
                stamp = None
            command = (len(keys), *keys, *args)
            try:
                await conn.send_command("EVALSHA", script.sha, *command)
                reply = await conn.read_response()
            except NoScriptError:
                await conn.send_command("EVAL", script.script, *command)
                reply = await conn.read_response()
        except BaseException:
            # Cancelled or failed mid-reply: the connection's state is unknown.
            await conn.disconnect()
            raise
        if self._closed:
            await conn.disconnect()  # finished after ``aclose``
        else:
            self._idle.append(conn)
        if stamp is not None and stamp[0] != conn.tracking_generation:
            stamp = None
        return reply, stamp

    async def aclose(self, *, for_good: bool = True) -> None:
        self._closed = self._closed or for_good
        idle, self._idle = self._idle, []
        for conn in idle:
            with contextlib.suppress(Exception):
                await conn.disconnect()


_current = KeyWatch()


def current() -> KeyWatch:
    """This process's watch (inactive until an app starts one)."""
    return _current


def install(watch: KeyWatch) -> None:
    global _current
    _current = watch
