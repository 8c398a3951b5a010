"""Real processes for fault tests: our own Redis and NATS servers (so stopping them hurts
nobody else), and snsfeed API and worker processes. Everything started here is stopped
here, by PID. Loopback only."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from snsfeed.config import Settings
from snsfeed.platform.security import write_new_key
from tests.conftest import service_unavailable, temporary_database

NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


@dataclass
class Process:
    """A child process in its own session, so a stop takes its children with it."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    log: Path | None = None
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            self.argv,
            env={**os.environ, **self.env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.proc.wait(timeout=5)

    def kill9(self) -> None:
        self.signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=5)


@dataclass
class Cluster:
    """One test's world: its database, Redis, NATS and snsfeed processes."""

    tmp: Path
    database_url: str
    redis_port: int
    nats_port: int
    processes: list[Process] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {
            "SNSFEED_DATABASE_URL": self.database_url,
            "SNSFEED_REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "SNSFEED_BROKER_URL": f"nats://127.0.0.1:{self.nats_port}",
            "SNSFEED_DATA_DIR": str(self.tmp),
            "SNSFEED_JWT_KEY_FILE": str(self.tmp / "jwt.pem"),
            "SNSFEED_ARGON2_TIME_COST": "1",
            "SNSFEED_ARGON2_MEMORY_COST_KIB": "1024",
            "SNSFEED_RATE_LIMIT_ENABLED": "false",
            "SNSFEED_BUS_POLL_INTERVAL_SECONDS": "0.05",
            "SNSFEED_BUS_RETRY_DELAYS_SECONDS": "[0.2, 0.5, 1.0]",
            "SNSFEED_BUS_MAX_ATTEMPTS": "50",
            "SNSFEED_BUS_ACK_WAIT_SECONDS": "3",
            "SNSFEED_LOG_LEVEL": "WARNING",
            "SNSFEED_HOT_ACCOUNT_FOLLOWERS": "1000000",
        }

    def settings(self) -> Settings:
        """The same configuration the processes get, for work done in the test process."""
        saved = dict(os.environ)
        os.environ.update(self.env)
        try:
            return Settings()
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def _add(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Process:
        process = Process(name, argv, {**self.env, **(env or {})}, self.tmp / f"{name}.log")
        self.processes.append(process)
        return process

    def redis(self) -> Process:
        return self._add(
            "redis",
            [
                REDIS_SERVER,
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.tmp),
            ],
        )

    def nats(self) -> Process:
        store = self.tmp / "jetstream"
        return self._add(
            "nats",
            [NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.nats_port), "-js", "-sd", str(store)],
        )

    def api(self, port: int, env: dict[str, str] | None = None) -> Process:
        cli = [sys.executable, "-m", "snsfeed.cli"]
        return self._add(f"api-{port}", [*cli, "serve", "--port", str(port)], env)

    def worker(
        self,
        name: str = "worker",
        env: dict[str, str] | None = None,
        consumers: tuple[str, ...] = ("timelines",),
    ) -> Process:
        cli = [sys.executable, "-m", "snsfeed.cli"]
        groups = [arg for c in consumers for arg in ("--consumer", c)]
        return self._add(name, [*cli, "worker", *groups], env)

    def start_api_and_worker(self) -> int:
        """One API process and one worker; returns the API's port once it answers."""
        port = free_port()
        self.api(port).start()
        self.worker().start()
        wait_http(port)
        return port

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            process.stop()


def require_server_binaries() -> None:
    if not (os.path.exists(NATS_SERVER) and os.path.exists(REDIS_SERVER)):
        service_unavailable("nats-server and redis-server binaries")


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    require_server_binaries()
    write_new_key(tmp_path / "jwt.pem")
    async with temporary_database() as url:
        world = Cluster(tmp_path, url, free_port(), free_port())
        try:
            yield world
        finally:
            world.stop_all()


async def eventually(check: object, within: float = 60.0, every: float = 0.2) -> None:
    """Await ``check()`` until it returns truthy; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    last: object = None
    while time.monotonic() < deadline:
        last = await check()  # type: ignore[operator]
        if last:
            return
        await asyncio.sleep(every)
    raise AssertionError(f"condition not met within {within} s (last value: {last!r})")


def http(port: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10)


def wait_http(port: int, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"API on {port} did not come up")


async def register(client: httpx.AsyncClient, name: str) -> tuple[str, dict[str, str]]:
    r = await client.post(
        "/api/v1/users",
        json={"username": name, "email": f"{name}@example.org", "password": "password123"},
    )
    assert r.status_code == 201, r.text
    token = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": name, "password": "password123"},
    )
    assert token.status_code == 200, token.text
    return r.json()["id"], {"Authorization": f"Bearer {token.json()['access_token']}"}


async def follow(client: httpx.AsyncClient, follower: dict[str, str], author_id: str) -> None:
    r = await client.post(f"/api/v1/users/{author_id}/follow", headers=follower)
    assert r.is_success, r.text
