"""WebSocket fan-out benchmark: time from ``POST /api/v1/content`` to receipt of
``new_content`` on every follower's open ``/ws/feed`` stream.

Production shape on loopback: PostgreSQL, Redis, NATS JetStream (a stream of its own),
``--nodes`` API processes (``snsfeed serve``) holding the streams, one ``snsfeed worker``
running the ``realtime`` and ``timelines`` groups. One author, ``--followers`` followers,
each with a stream (spread over the nodes). For each of ``--posts`` posts the clock starts
before the POST and stops when a stream receives the post; p50/p99/max are over every
(post, follower) pair. The same run measures the transport alone as a floor: one message
published straight to every follower's Redis channel, timed the same way. It also reports
the API processes' memory (RSS) growth per idle stream.

    uv run python bench/ws_fanout.py --followers 1000 --posts 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import orjson
import redis.asyncio as aioredis
from benchkit import sign_in
from websockets.asyncio.client import ClientConnection, connect

from snsfeed.config import Settings
from snsfeed.graph import service as graph
from snsfeed.platform.security import (
    make_password_hasher,
    write_new_key,
)
from snsfeed.realtime.publisher import publish_many
from snsfeed.runtime import start_runtime, stop_runtime
from snsfeed.users import service as users
from snsfeed.users.schemas import RegisterRequest

PG = "postgresql://postgres@127.0.0.1:5432/test"
PASSWORD = "bench-password"
RECEIPT_TIMEOUT = 30.0


async def populate(settings: Settings, followers: int) -> tuple[str, list[tuple[str, str]]]:
    """The author's token, and (user id, token) for each follower."""
    runtime = await start_runtime(settings, migrate=True)
    hasher = make_password_hasher(settings)
    people = []
    async with runtime.sessionmaker() as session:
        for n in range(followers + 1):
            data = RegisterRequest(username=f"ws{n}", email=f"ws{n}@example.org", password=PASSWORD)
            people.append(await users.register(session, hasher, data))
        author = people[0]
        for person in people[1:]:
            await graph.follow(session, person.id, author.id)
        issued = await sign_in(session, settings, [p.username for p in people], PASSWORD)
        tokens = [(str(p.id), token) for p, token in zip(people, issued, strict=True)]
        await session.commit()
    await stop_runtime(runtime)
    return tokens[0][1], tokens[1:]


def start(name: str, args: list[str], env: dict[str, str], tmp: Path) -> subprocess.Popen[bytes]:
    log = open(tmp / f"{name}.log", "ab")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "snsfeed.cli", *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_http(port: int, within: float = 60) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise TimeoutError(f"API on {port} did not come up")


class Receivers:
    """Every stream records when it first sees each content id."""

    def __init__(self, streams: int) -> None:
        self.streams = streams
        self.seen: dict[str, list[float]] = {}
        self.complete: dict[str, asyncio.Event] = {}
        self.tasks: list[asyncio.Task[None]] = []

    def watch(self, conn: ClientConnection) -> None:
        self.tasks.append(asyncio.create_task(self._read(conn)))

    async def _read(self, conn: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            async for raw in conn:
                at = time.perf_counter()
                message = orjson.loads(raw)
                if message["type"] == "new_content":
                    content_id = message["data"]["content_id"]
                    times = self.seen.setdefault(content_id, [])
                    times.append(at)
                    if len(times) == self.streams:
                        self.complete.setdefault(content_id, asyncio.Event()).set()

    async def wait_for(self, content_id: str) -> list[float]:
        done = self.complete.setdefault(content_id, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), RECEIPT_TIMEOUT)
        return self.seen.get(content_id, [])


async def open_streams(urls: list[str], tokens: list[tuple[str, str]]) -> list[ClientConnection]:
    async def one(n: int, token: str) -> ClientConnection:
        conn = await connect(
            urls[n % len(urls)],
            additional_headers={"Authorization": f"Bearer {token}"},
            proxy=None,
            compression=None,
            open_timeout=60,
            ping_interval=None,
        )
        welcome = orjson.loads(await conn.recv())
        assert welcome["type"] == "welcome", welcome
        await conn.send('{"type": "subscribe", "channel": "feed_updates"}')
        assert orjson.loads(await conn.recv())["type"] == "subscribed"
        return conn

    conns: list[ClientConnection] = []
    for start_at in range(0, len(tokens), 100):  # in waves: the accept queue is finite
        batch = tokens[start_at : start_at + 100]
        conns += await asyncio.gather(*(one(start_at + i, t) for i, (_, t) in enumerate(batch)))
    return conns


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(name: str, latencies: list[float], expected: int) -> str:
    if not latencies:
        return f"{name}: nothing received"
    ms = [v * 1000 for v in latencies]
    return (
        f"{name}: p50 {statistics.median(ms):7.1f} ms  p99 {percentile(ms, 0.99):7.1f} ms  "
        f"max {max(ms):7.1f} ms  received {len(ms)}/{expected}"
    )


async def main(opts: argparse.Namespace) -> None:
    admin = await asyncpg.connect(PG)
    dbname = f"snsfeed_bench_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{dbname}"')
    tmp = Path(tempfile.mkdtemp(prefix="snsfeed-wsbench-"))
    write_new_key(tmp / "jwt.pem")
    stream = f"SNSFEED_WSBENCH_{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "SNSFEED_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{dbname}",
        "SNSFEED_REDIS_URL": opts.redis,
        "SNSFEED_BROKER_URL": opts.nats,
        "SNSFEED_NATS_STREAM": stream,
        "SNSFEED_NATS_SUBJECT_PREFIX": f"{stream.lower()}.events",
        "SNSFEED_DATA_DIR": str(tmp),
        "SNSFEED_JWT_KEY_FILE": str(tmp / "jwt.pem"),
        "SNSFEED_RATE_LIMIT_ENABLED": "false",
        "SNSFEED_ARGON2_TIME_COST": "1",
        "SNSFEED_ARGON2_MEMORY_COST_KIB": "1024",
        "SNSFEED_API_CONSUMERS": "false",
        "SNSFEED_BUS_POLL_INTERVAL_SECONDS": "0.02",
        "SNSFEED_LOG_LEVEL": "WARNING",
    }
    procs: list[subprocess.Popen[bytes]] = []
    conns: list[ClientConnection] = []
    redis = aioredis.Redis.from_url(opts.redis)
    try:
        os.environ.update(env)
        settings = Settings()
        t0 = time.monotonic()
        author_token, followers = await populate(settings, opts.followers)
        print(f"populated 1 author + {opts.followers} followers in {time.monotonic() - t0:.0f} s")
        ports = [free_port() for _ in range(opts.nodes)]
        nodes = [start(f"api-{p}", ["serve", "--port", str(p)], env, tmp) for p in ports]
        procs += nodes
        procs.append(start("worker", ["worker"], env, tmp))
        for port in ports:
            await wait_http(port)
        await asyncio.sleep(2)  # let start-up allocations settle before the memory baseline
        before = [rss_kib(p.pid) for p in nodes]
        urls = [f"ws://127.0.0.1:{p}/ws/feed" for p in ports]
        conns = await open_streams(urls, followers)
        receivers = Receivers(len(conns))
        for conn in conns:
            receivers.watch(conn)
        await asyncio.sleep(2)
        after = [rss_kib(p.pid) for p in nodes]
        per_stream = (sum(after) - sum(before)) / len(conns)

        # Floor: the transport alone (Redis pub/sub -> API node -> socket), same clock.
        floor: list[float] = []
        ids = [uuid.UUID(uid) for uid, _ in followers]
        for n in range(opts.posts):
            marker = f"floor-{n}"
            started = time.perf_counter()
            await publish_many(redis, ids, {"type": "new_content", "data": {"content_id": marker}})
            floor += [t - started for t in await receivers.wait_for(marker)]
            await asyncio.sleep(0.5)

        latencies: list[float] = []
        auth = {"Authorization": f"Bearer {author_token}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[0]}") as api:
            warm = await api.post("/api/v1/content", json={"text": "warm-up"}, headers=auth)
            await receivers.wait_for(warm.json()["id"])
            for n in range(opts.posts):
                started = time.perf_counter()
                r = await api.post(
                    "/api/v1/content", json={"text": f"bench post {n} #피드"}, headers=auth
                )
                assert r.status_code == 201, r.text
                got = await receivers.wait_for(r.json()["id"])
                latencies += [t - started for t in got]
                await asyncio.sleep(1.0)

        expected = opts.posts * len(conns)
        print(f"nodes={opts.nodes} streams={len(conns)} posts={opts.posts}")
        print(summary("POST -> new_content  ", latencies, expected))
        print(summary("pub/sub floor        ", floor, expected))
        print(
            f"memory per idle stream: {per_stream:.1f} KiB "
            f"(API RSS {sum(before) / 1024:.0f} -> {sum(after) / 1024:.0f} MiB)"
        )
        print("goal: p99 < 1000 ms")
    finally:
        for conn in conns:
            with contextlib.suppress(Exception):
                await conn.close()
        for proc in reversed(procs):
            stop(proc)
        await redis.flushdb()
        await redis.aclose()
        with contextlib.suppress(Exception):
            import nats

            nc = await nats.connect(opts.nats)
            await nc.jetstream().delete_stream(stream)
            await nc.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--followers", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=5)
    parser.add_argument("--nodes", type=int, default=1)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/11", help="flushed at the end")
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    opts = parser.parse_args()
    asyncio.run(asyncio.wait_for(main(opts), timeout=900))
