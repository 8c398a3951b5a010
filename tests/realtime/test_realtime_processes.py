"""Real processes: two API nodes and a worker on the services profile (the test PostgreSQL
server, the test Redis database, a JetStream stream of its own). A post accepted by one
node reaches streams on the other through Redis pub/sub, presence dies with a killed
node, and a client that moves to the other node catches up."""

from __future__ import annotations

import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from snsfeed.platform.security import write_new_key
from snsfeed.realtime.publisher import presence_key, publish
from tests.conftest import (
    NATS_URL,
    REDIS_APP_URL,
    _drop_stream,
    require_nats,
    require_redis,
    temporary_database,
)
from tests.e2e.conftest import Process, eventually, follow, free_port, http, register, wait_http
from tests.realtime.conftest import open_ws

PRESENCE_TTL = 2.0


@dataclass
class Nodes:
    tmp: Path
    env: dict[str, str]
    ports: list[int] = field(default_factory=list)
    processes: list[Process] = field(default_factory=list)

    def start(self, name: str, *args: str) -> Process:
        argv = [sys.executable, "-m", "snsfeed.cli", *args]
        process = Process(name, argv, self.env, self.tmp / f"{name}.log")
        process.start()
        self.processes.append(process)
        return process

    def ws(self, port: int) -> str:
        return f"ws://127.0.0.1:{port}/ws/feed"


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    await require_redis()
    require_nats()
    redis = aioredis.Redis.from_url(REDIS_APP_URL)
    await redis.flushdb()
    write_new_key(tmp_path / "jwt.pem")
    stream = f"SNSFEED_RT_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    async with temporary_database() as url:
        env = {
            "SNSFEED_DATABASE_URL": url,
            "SNSFEED_REDIS_URL": REDIS_APP_URL,
            "SNSFEED_BROKER_URL": NATS_URL,
            "SNSFEED_NATS_STREAM": stream,
            "SNSFEED_NATS_SUBJECT_PREFIX": f"{stream.lower()}.events",
            "SNSFEED_DATA_DIR": str(tmp_path),
            "SNSFEED_JWT_KEY_FILE": str(tmp_path / "jwt.pem"),
            "SNSFEED_API_CONSUMERS": "0",
            "SNSFEED_ARGON2_TIME_COST": "1",
            "SNSFEED_ARGON2_MEMORY_COST_KIB": "1024",
            "SNSFEED_RATE_LIMIT_ENABLED": "false",
            "SNSFEED_BUS_POLL_INTERVAL_SECONDS": "0.05",
            "SNSFEED_REALTIME_HEARTBEAT_SECONDS": "0.5",
            "SNSFEED_REALTIME_PRESENCE_TTL_SECONDS": str(PRESENCE_TTL),
            "SNSFEED_LOG_LEVEL": "WARNING",
        }
        world = Nodes(tmp_path, env)
        try:
            for n in range(2):
                port = free_port()
                world.start(f"api-{n}", "serve", "--port", str(port))
                world.ports.append(port)
            world.start("worker", "worker", "--consumer", "realtime", "--consumer", "timelines")
            for port in world.ports:
                wait_http(port)
            yield world
        finally:
            for process in reversed(world.processes):
                process.stop()
            await _drop_stream(stream)
            await redis.flushdb()
            await redis.aclose()


async def test_post_on_one_node_reaches_streams_on_both(nodes: Nodes) -> None:
    a, b = nodes.ports
    async with http(a) as api_a:
        alice_id, alice = await register(api_a, "alice")
        _, bob = await register(api_a, "bob")
        _, carol = await register(api_a, "carol")
        await follow(api_a, bob, alice_id)
        await follow(api_a, carol, alice_id)
        on_b = await open_ws(nodes.ws(b), bob["Authorization"].removeprefix("Bearer "))
        on_a = await open_ws(nodes.ws(a), carol["Authorization"].removeprefix("Bearer "))
        for stream in (on_a, on_b):
            await stream.subscribe()
        r = await api_a.post("/api/v1/content", json={"text": "hello, both nodes"}, headers=alice)
        assert r.status_code == 201, r.text
        for stream in (on_b, on_a):
            message = await stream.recv_type("new_content", within=20)
            assert message["data"]["content_id"] == r.json()["id"]
            await stream.close()


async def test_notification_published_anywhere_reaches_the_node_holding_the_stream(
    nodes: Nodes,
) -> None:
    _, b = nodes.ports
    async with http(b) as api_b:
        bob_id, bob = await register(api_b, "bob")
    stream = await open_ws(nodes.ws(b), bob["Authorization"].removeprefix("Bearer "))
    await stream.subscribe("notifications")
    redis = aioredis.Redis.from_url(REDIS_APP_URL)
    try:
        message = {"type": "notification", "data": {"kind": "follow"}}
        await publish(redis, uuid.UUID(bob_id), message)
        assert await stream.recv_type("notification", within=10) == message
    finally:
        await redis.aclose()
        await stream.close()


async def test_presence_of_a_killed_node_expires_and_a_live_one_is_renewed(
    nodes: Nodes,
) -> None:
    a, b = nodes.ports
    async with http(a) as api_a:
        carol_id, carol = await register(api_a, "carol")
        bob_id, bob = await register(api_a, "bob")
    on_a = await open_ws(nodes.ws(a), carol["Authorization"].removeprefix("Bearer "))
    await open_ws(nodes.ws(b), bob["Authorization"].removeprefix("Bearer "))
    redis = aioredis.Redis.from_url(REDIS_APP_URL)
    try:
        assert await redis.exists(presence_key(uuid.UUID(bob_id)))
        nodes.processes[1].signal(signal.SIGKILL)

        async def bob_gone() -> bool:
            return not await redis.exists(presence_key(uuid.UUID(bob_id)))

        await eventually(bob_gone, within=PRESENCE_TTL * 5, every=0.1)
        # Carol's node kept renewing her presence for longer than the TTL meanwhile.
        assert await redis.exists(presence_key(uuid.UUID(carol_id)))
    finally:
        await redis.aclose()
        await on_a.close()


async def test_client_moving_to_another_node_catches_up(nodes: Nodes) -> None:
    a, b = nodes.ports
    async with http(a) as api_a:
        alice_id, alice = await register(api_a, "alice")
        _, bob = await register(api_a, "bob")
        await follow(api_a, bob, alice_id)
        token = bob["Authorization"].removeprefix("Bearer ")
        first = await api_a.post("/api/v1/content", json={"text": "seen"}, headers=alice)
        on_b = await open_ws(nodes.ws(b), token)
        await on_b.close()  # bob leaves; two posts land while he is away
        for text in ("missed 1", "missed 2"):
            r = await api_a.post("/api/v1/content", json={"text": text}, headers=alice)
            assert r.status_code == 201, r.text
        on_a = await open_ws(nodes.ws(a), token)
        await on_a.subscribe()
        await on_a.send({"type": "catch_up", "last_seen_id": first.json()["id"]})
        reply = await on_a.recv_type("catch_up", skip=("heartbeat", "new_content"), within=20)
        texts = [item["content"]["text"] for item in reply["data"]["new_items"]]
        assert texts == ["missed 2", "missed 1"]
        await on_a.close()
