"""Feed-read benchmark: authenticated ``GET /api/v1/feed`` against a hello-world reference.

Both servers run under uvicorn (uvloop, httptools) with the same number of worker
processes on this machine, loaded by wrk from this machine, in the same run. The data:
USERS accounts following FOLLOWS others each, POSTS posts, timelines warm in Redis.

    uv run python bench/feed_read.py --users 500 --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import asyncpg
from benchkit import sign_in

from snsfeed.config import Settings
from snsfeed.content import service as content
from snsfeed.content.schemas import ContentCreate
from snsfeed.graph import service as graph
from snsfeed.platform.security import (
    make_password_hasher,
    write_new_key,
)
from snsfeed.runtime import start_runtime, stop_runtime
from snsfeed.users import service as users
from snsfeed.users.models import Role
from snsfeed.users.schemas import Principal, RegisterRequest

HERE = Path(__file__).resolve().parent
PG = "postgresql://postgres@127.0.0.1:5432/test"
PASSWORD = "bench-password"


async def populate(settings: Settings, n_users: int, follows: int, posts: int) -> list[str]:
    """Create the network through the services, warm the timelines, return access tokens."""
    runtime = await start_runtime(settings, migrate=True, run_consumers=True)
    hasher = make_password_hasher(settings)
    rng = random.Random(42)
    people: list[Principal] = []
    async with runtime.sessionmaker() as session:
        for n in range(n_users):
            data = RegisterRequest(
                username=f"bench{n}", email=f"bench{n}@example.org", password=PASSWORD
            )
            user = await users.register(session, hasher, data)
            people.append(Principal(user.id, user.username, Role.USER, uuid.uuid4()))
        await session.commit()
        for person in people:
            for other in rng.sample(people, k=min(follows, n_users - 1)):
                if other.id != person.id:
                    await graph.follow(session, person.id, other.id)
        await session.commit()
    for n in range(posts):
        async with runtime.sessionmaker() as session:
            author = people[rng.randrange(n_users)]
            text = f"bench post {n} #bench #피드 with some words to make it look like a real post"
            await content.create(session, settings, author, ContentCreate(text=text))
            await session.commit()
    async with runtime.sessionmaker() as session:
        tokens = await sign_in(session, settings, [p.username for p in people], PASSWORD)
        await session.commit()
    assert runtime.bus is not None
    await runtime.bus.wait_idle(within_seconds=300)
    await stop_runtime(runtime)
    return tokens


def wait_http(url: str, headers: dict[str, str] | None = None, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(
                urllib.request.Request(url, headers=headers or {}), timeout=2
            ):
                return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def warm_timelines(url: str, tokens: list[str]) -> None:
    for token in tokens:
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()


class Writer(threading.Thread):
    """Likes and unlikes posts at a steady rate while wrk reads, so caches keep changing.

    Each like changes a post's counter (every page showing it is rebuilt) and the liker's
    own state; it measures the read path under writes rather than on a frozen network.
    """

    def __init__(self, base: str, tokens: list[str], rate: float) -> None:
        super().__init__(daemon=True)
        self.base, self.tokens, self.rate = base, tokens, rate
        self.stop = threading.Event()
        self.done = 0
        self.failed = 0

    def _call(self, method: str, path: str, token: str) -> bytes:
        request = urllib.request.Request(
            self.base + path, method=method, headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body: bytes = response.read()
            return body

    def run(self) -> None:
        rng = random.Random(7)
        liked: set[tuple[int, str]] = set()
        posts: dict[int, list[str]] = {}
        while not self.stop.wait(1 / self.rate):
            who = rng.randrange(len(self.tokens))
            token = self.tokens[who]
            try:
                if who not in posts:
                    page = json.loads(self._call("GET", "/api/v1/feed", token))
                    posts[who] = [item["id"] for item in page["items"]]
                if not posts[who]:
                    continue
                post = rng.choice(posts[who])
                method = "DELETE" if (who, post) in liked else "POST"
                self._call(method, f"/api/v1/content/{post}/like", token)
                liked ^= {(who, post)}
                self.done += 1
            except Exception:
                self.failed += 1


def run_wrk(
    url: str, duration: int, connections: int, tokens_file: Path | None
) -> tuple[float, float]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url]
    env = dict(os.environ)
    if tokens_file:
        cmd[1:1] = ["-s", str(HERE / "wrk_tokens.lua")]
        env["TOKENS_FILE"] = str(tokens_file)
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99 is not None
    factor = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        print(f"  warning: {non2xx.group(1)} non-2xx responses", file=sys.stderr)
    return rps, float(p99.group(1)) * factor


def serve(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            *args,
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


async def main(opts: argparse.Namespace) -> None:
    admin = await asyncpg.connect(PG)
    dbname = f"snsfeed_bench_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{dbname}"')
    tmp = Path(tempfile.mkdtemp(prefix="snsfeed-bench-"))
    key = tmp / "jwt.pem"
    write_new_key(key)
    env = {
        **os.environ,
        "SNSFEED_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{dbname}",
        "SNSFEED_REDIS_URL": opts.redis,
        "SNSFEED_DATA_DIR": str(tmp),
        "SNSFEED_JWT_KEY_FILE": str(key),
        "SNSFEED_RATE_LIMIT_ENABLED": "false",
        "SNSFEED_ARGON2_TIME_COST": "1",
        "SNSFEED_ARGON2_MEMORY_COST_KIB": "1024",
        "SNSFEED_API_CONSUMERS": "false",
        "SNSFEED_LOG_LEVEL": "WARNING",
    }
    procs: list[subprocess.Popen[bytes]] = []
    try:
        os.environ.update(env)
        settings = Settings()
        t0 = time.monotonic()
        tokens = await populate(settings, opts.users, opts.follows, opts.posts)
        print(f"populated {opts.users} users / {opts.posts} posts in {time.monotonic() - t0:.0f} s")
        tokens_file = tmp / "tokens.txt"
        tokens_file.write_text("\n".join(tokens) + "\n")

        ref = serve(["bench.hello:app", "--port", "8101", "--workers", str(opts.workers)], env)
        procs.append(ref)
        wait_http("http://127.0.0.1:8101/")
        run_wrk("http://127.0.0.1:8101/", 2, opts.connections, None)  # warm-up
        ref_rps, ref_p99 = run_wrk("http://127.0.0.1:8101/", opts.duration, opts.connections, None)
        stop(ref)

        app = serve(
            [
                "snsfeed.app:create_app",
                "--factory",
                "--port",
                "8102",
                "--workers",
                str(opts.workers),
            ],
            env,
        )
        procs.append(app)
        auth = {"Authorization": f"Bearer {tokens[0]}"}
        wait_http("http://127.0.0.1:8102/api/v1/feed", auth)
        # Warm every reader's timeline (the first read builds it from SQL).
        await asyncio.to_thread(warm_timelines, "http://127.0.0.1:8102/api/v1/feed", tokens)
        run_wrk("http://127.0.0.1:8102/api/v1/feed", 3, opts.connections, tokens_file)  # warm-up
        writer = Writer("http://127.0.0.1:8102", tokens, opts.write_rate)
        if opts.write_rate:
            writer.start()
        rps, p99 = run_wrk(
            "http://127.0.0.1:8102/api/v1/feed", opts.duration, opts.connections, tokens_file
        )
        writer.stop.set()
        stop(app)

        print(f"workers={opts.workers} connections={opts.connections} duration={opts.duration}s")
        print(f"reference hello-world : {ref_rps:9.0f} req/s  p99 {ref_p99:6.1f} ms")
        print(f"GET /api/v1/feed      : {rps:9.0f} req/s  p99 {p99:6.1f} ms")
        print(f"ratio                 : {rps / ref_rps:.2f} (goal >= 0.5, p99 < 50 ms)")
        if opts.write_rate:
            print(
                f"writes during the run : {writer.done} likes/unlikes "
                f"({writer.done / opts.duration:.0f}/s), {writer.failed} failed"
            )
    finally:
        for proc in procs:
            if proc.poll() is None:
                stop(proc)
        await admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--follows", type=int, default=40)
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/11")
    parser.add_argument(
        "--write-rate",
        type=float,
        default=0.0,
        help="likes/unlikes per second during the measured run (0: a read-only network)",
    )
    asyncio.run(main(parser.parse_args()))
