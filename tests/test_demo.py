"""`snsfeed demo`: the network it writes is visible, consistent and reproducible through the API.

One small network (30 accounts, 100 posts) is written per profile and module; the tests read
it back over HTTP as the demo accounts themselves.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

import httpx
import pytest

from snsfeed.app import create_app
from snsfeed.config import Settings
from snsfeed.demo import DemoAlreadyLoaded, DemoSummary, fill_demo
from tests.conftest import base_settings, truncate_all

USERS, POSTS, SEED = 30, 100, 11
PASSWORD = "demo-password"
HANGUL = re.compile(r"[\uac00-\ud7a3]")


@dataclass
class Demo:
    summary: DemoSummary
    client: httpx.AsyncClient
    # Filled by the `network` fixture: every post as its author sees it, every profile.
    posts: list[dict[str, Any]] = field(default_factory=list)
    profiles: list[dict[str, Any]] = field(default_factory=list)

    async def login(self, username: str) -> dict[str, str]:
        r = await self.client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": username, "password": PASSWORD},
        )
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    async def get(self, url: str, headers: dict[str, str], **params: Any) -> dict[str, Any]:
        r = await self.client.get(url, params=params, headers=headers)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def all_pages(self, url: str, headers: dict[str, str], **params: Any) -> list[Any]:
        items: list[Any] = []
        cursor = None
        while True:
            page = await self.get(
                url, headers, size=50, **params, **({"cursor": cursor} if cursor else {})
            )
            items += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return items


@pytest.fixture(scope="module", params=["embedded", "services"])
def demo_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    tmp = tmp_path_factory.mktemp(f"demo_{request.param}")
    if request.param == "services":
        return base_settings(tmp, database_url=request.getfixturevalue("pg_database_url"))
    return base_settings(tmp)


@pytest.fixture(scope="module")
async def demo(demo_settings: Settings) -> AsyncIterator[Demo]:
    app = create_app(demo_settings)
    async with app.router.lifespan_context(app):
        await truncate_all(
            app.state.engine
        )  # the PostgreSQL test database is shared with other modules
        summary = await fill_demo(demo_settings, users=USERS, posts=POSTS, seed=SEED)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Demo(summary, client)


@pytest.fixture(scope="module")
async def network(demo: Demo) -> Demo:
    """Log in as every demo account and read its profile and all its own posts."""
    if not demo.posts:
        for username in demo.summary.usernames:
            headers = await demo.login(username)
            me = await demo.get("/api/v1/users/me", headers)
            demo.profiles.append(me)
            demo.posts += await demo.all_pages(f"/api/v1/users/{me['id']}/content", headers)
    return demo


async def all_comments(demo: Demo, headers: dict[str, str], post_id: str) -> list[dict[str, Any]]:
    """Every comment of a post: the top level and, recursively, the replies."""
    url = f"/api/v1/content/{post_id}/comments"
    found: list[dict[str, Any]] = []
    level = await demo.all_pages(url, headers)
    while level:
        found += level
        replies: list[dict[str, Any]] = []
        for c in level:
            if c["replies_count"]:
                replies += await demo.all_pages(url, headers, parent_comment_id=c["id"])
        level = replies
    return found


async def test_demo_account_sees_a_nonempty_home_feed(demo: Demo) -> None:
    headers = await demo.login(demo.summary.login_username)
    feed = await demo.get("/api/v1/feed", headers, size=50)
    assert demo.summary.login_username == "demo"
    assert len(feed["items"]) > 0
    assert feed["total"] >= len(feed["items"])


async def test_feed_items_show_the_counters_of_the_post_endpoint(demo: Demo) -> None:
    headers = await demo.login(demo.summary.login_username)
    feed = await demo.get("/api/v1/feed", headers, size=50)
    for item in feed["items"]:
        single = await demo.get(f"/api/v1/content/{item['id']}", headers)
        assert single["engagement"] == item["engagement"]


async def test_comment_counters_equal_the_comments_listed(demo: Demo) -> None:
    headers = await demo.login(demo.summary.login_username)
    feed = await demo.get("/api/v1/feed", headers, size=50)
    commented = [i for i in feed["items"] if i["engagement"]["comments_count"]]
    assert commented, "the demo should comment on some posts in the feed"
    for item in commented:
        comments = await all_comments(demo, headers, item["id"])
        assert len(comments) == item["engagement"]["comments_count"]


async def test_post_like_and_comment_totals_equal_what_the_demo_made(network: Demo) -> None:
    assert len(network.posts) == network.summary.posts == POSTS
    likes = sum(p["engagement"]["likes_count"] for p in network.posts)
    comments = sum(p["engagement"]["comments_count"] for p in network.posts)
    assert likes == network.summary.likes > 0
    assert comments == network.summary.comments > 0


async def test_follower_totals_equal_the_follows_the_demo_made(network: Demo) -> None:
    followers = sum(p["counts"]["followers_count"] for p in network.profiles)
    following = sum(p["counts"]["following_count"] for p in network.profiles)
    assert followers == following == network.summary.follows > 0


async def test_a_few_accounts_are_far_more_followed_than_the_median(network: Demo) -> None:
    counts = sorted((p["counts"]["followers_count"] for p in network.profiles), reverse=True)
    assert counts[0] >= 3 * max(1, median(counts))


async def test_posts_mix_languages_hashtags_mentions_links_and_visibilities(
    network: Demo,
) -> None:
    texts = [p["content"]["text"] for p in network.posts]
    assert any(HANGUL.search(t) for t in texts) and any(not HANGUL.search(t) for t in texts)
    assert all(p["content"]["hashtags"] for p in network.posts)
    assert any(p["content"]["mentions"] for p in network.posts)
    assert any(p["content_type"] == "link" and p["content"]["link_url"] for p in network.posts)
    assert {p["visibility"] for p in network.posts} == {"public", "followers", "private"}


async def test_comments_are_threaded(demo: Demo) -> None:
    headers = await demo.login(demo.summary.login_username)
    feed = await demo.get("/api/v1/feed", headers, size=50)
    threads = [await all_comments(demo, headers, i["id"]) for i in feed["items"]]
    assert any(c["parent_comment_id"] for thread in threads for c in thread)


async def test_running_again_without_force_is_refused(demo: Demo, demo_settings: Settings) -> None:
    with pytest.raises(DemoAlreadyLoaded, match="--force"):
        await fill_demo(demo_settings, users=USERS, posts=POSTS, seed=SEED)
    r = await demo.client.get("/api/v1/users/by-username/demo_2")
    assert r.status_code == 404


async def test_force_adds_a_second_network_with_its_own_login(tmp_path: Path) -> None:
    settings = base_settings(tmp_path)
    await fill_demo(settings, users=4, posts=3, seed=1)
    second = await fill_demo(settings, users=4, posts=3, seed=1, force=True)
    assert second.login_username == "demo_2"
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            demo = Demo(second, client)
            headers = await demo.login("demo_2")
            me = await demo.get("/api/v1/users/me", headers)
    assert me["username"] == "demo_2"


async def test_same_seed_gives_the_same_accounts_and_another_seed_does_not(
    tmp_path: Path,
) -> None:
    runs = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        (tmp_path / name).mkdir()
        runs.append(await fill_demo(base_settings(tmp_path / name), users=8, posts=4, seed=seed))
    assert runs[0].usernames == runs[1].usernames
    assert (runs[0].follows, runs[0].likes) == (runs[1].follows, runs[1].likes)
    assert runs[0].usernames != runs[2].usernames
