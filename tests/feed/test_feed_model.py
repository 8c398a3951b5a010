"""Property: the home feed equals a model of the social graph computed in Python.

Hypothesis drives random sequences of post/follow/unfollow/(un)mute/(un)block/delete among four
users through the HTTP API, then compares user 0's feed (set and order of ids, total, and a
cursor walk) with the model. It runs on a separate embedded app through a sync TestClient,
since ``@given`` cannot drive async tests; the tables are emptied between examples.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snsfeed.app import create_app
from tests.conftest import base_settings, truncate_all

USERS = 4
VIEWER = 0
_names = itertools.count(1)


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(base_settings(tmp_path_factory.mktemp("feed_model")))
    with TestClient(app, client=("203.0.113.9", 50000)) as client:
        yield client


@dataclass
class Model:
    """What the feed should be: the graph and the posts, as plain Python sets."""

    follows: set[tuple[int, int]] = field(default_factory=set)
    blocks: set[tuple[int, int]] = field(default_factory=set)
    mutes: set[tuple[int, int]] = field(default_factory=set)
    # (post id, author, visibility) in creation order; deleted ones are removed.
    posts: list[tuple[str, int, str]] = field(default_factory=list)

    def blocked_between(self, a: int, b: int) -> bool:
        return (a, b) in self.blocks or (b, a) in self.blocks

    def feed(self, viewer: int) -> list[str]:
        def shown(author: int, visibility: str) -> bool:
            if author == viewer:
                return True
            return (
                (viewer, author) in self.follows
                and not self.blocked_between(viewer, author)
                and (viewer, author) not in self.mutes
                and visibility in ("public", "followers")
            )

        return [pid for pid, author, vis in reversed(self.posts) if shown(author, vis)]


user_ix = st.integers(min_value=0, max_value=USERS - 1)
other_ix = st.integers(min_value=1, max_value=USERS - 1)
# Relations that involve the viewer matter most, so they are drawn more often.
pair = st.one_of(
    st.tuples(st.just(VIEWER), other_ix),
    st.tuples(other_ix, st.just(VIEWER)),
    st.tuples(user_ix, user_ix).filter(lambda p: p[0] != p[1]),
)
# Every example starts with the viewer following everyone, so the ops mostly take away.
PRELUDE = [("follow", (VIEWER, b)) for b in range(1, USERS)]
# ... and ends with posts whose presence depends on the graph (public ones come from the ops).
EPILOGUE = [("post", VIEWER, "private")] + [
    ("post", u, v) for u in range(1, USERS) for v in ("followers", "private")
]
operation = st.one_of(
    st.tuples(st.just("post"), user_ix, st.sampled_from(["public", "followers", "private"])),
    st.tuples(st.just("follow"), pair),
    st.tuples(st.just("follow"), pair),
    st.tuples(st.just("unfollow"), pair),
    st.tuples(st.just("mute"), pair),
    st.tuples(st.just("block"), pair),
    st.tuples(st.just("unblock"), pair),
    st.tuples(st.just("unmute"), pair),
    st.tuples(st.just("delete"), user_ix, st.integers(min_value=0, max_value=5)),
)


def _register(http: TestClient) -> tuple[str, dict[str, str]]:
    """A new account's id and auth headers."""
    name = f"model_{next(_names)}"
    password = "correct horse 1"
    r = http.post(
        "/api/v1/users",
        json={"username": name, "email": f"{name}@example.org", "password": password},
    )
    assert r.status_code == 201, r.text
    user_id = r.json()["id"]
    r = http.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": name, "password": password},
    )
    assert r.status_code == 200, r.text
    return user_id, {"Authorization": f"Bearer {r.json()['access_token']}"}


class World:
    def __init__(self, http: TestClient) -> None:
        self.http = http
        self.model = Model()
        self.ids: list[str] = []
        self.headers: list[dict[str, str]] = []
        for _ in range(USERS):
            user_id, headers = _register(http)
            self.ids.append(user_id)
            self.headers.append(headers)

    def _graph(self, method: str, verb: str, a: int, b: int) -> int:
        url = f"/api/v1/users/{self.ids[b]}/{verb}"
        r = self.http.request(method, url, headers=self.headers[a])
        return r.status_code

    def apply(self, op: tuple[Any, ...]) -> None:
        m = self.model
        kind = op[0]
        if kind == "post":
            _, author, visibility = op
            r = self.http.post(
                "/api/v1/content",
                json={"text": f"by {author}", "visibility": visibility},
                headers=self.headers[author],
            )
            assert r.status_code == 201, r.text
            m.posts.append((r.json()["id"], author, visibility))
        elif kind in ("follow", "unfollow", "mute", "unmute"):
            a, b = op[1]
            method, verb = {
                "follow": ("POST", "follow"),
                "unfollow": ("DELETE", "follow"),
                "mute": ("POST", "mute"),
                "unmute": ("DELETE", "mute"),
            }[kind]
            status = self._graph(method, verb, a, b)
            if m.blocked_between(a, b) and status in (403, 404):
                return  # refused across a block; nothing changed
            assert status in (200, 204), (op, status)
            if kind == "follow":
                assert not m.blocked_between(a, b), "follow across a block was accepted"
                m.follows.add((a, b))
            elif kind == "unfollow":
                m.follows.discard((a, b))
            elif kind == "mute":
                m.mutes.add((a, b))
            else:
                m.mutes.discard((a, b))
        elif kind == "block":
            a, b = op[1]
            assert self._graph("POST", "block", a, b) == 200
            m.blocks.add((a, b))
            m.follows -= {(a, b), (b, a)}
        elif kind == "unblock":
            a, b = op[1]
            assert self._graph("DELETE", "block", a, b) == 204
            m.blocks.discard((a, b))
        elif kind == "delete":
            _, author, k = op
            own = [p for p in m.posts if p[1] == author]
            if not own:
                return
            victim = own[k % len(own)]
            r = self.http.delete(f"/api/v1/content/{victim[0]}", headers=self.headers[author])
            assert r.status_code == 204, r.text
            m.posts.remove(victim)

    def feed_ids(self, viewer: int) -> tuple[list[str], int]:
        r = self.http.get("/api/v1/feed", params={"size": 50}, headers=self.headers[viewer])
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]], r.json()["total"]

    def walk(self, viewer: int) -> list[str]:
        seen: list[str] = []
        params: dict[str, Any] = {"size": 3}
        while True:
            r = self.http.get("/api/v1/feed", params=params, headers=self.headers[viewer])
            assert r.status_code == 200, r.text
            seen += [i["id"] for i in r.json()["items"]]
            cursor = r.json()["next_cursor"]
            if cursor is None:
                return seen
            assert len(seen) <= 60
            params = {"size": 3, "cursor": cursor}


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(ops=st.lists(operation, min_size=3, max_size=14))
def test_feed_matches_model_of_graph_and_posts(http: TestClient, ops: list[Any]) -> None:
    http.portal.call(truncate_all, http.app.state.engine)  # type: ignore[union-attr, attr-defined]
    world = World(http)
    for op in [*PRELUDE, *ops, *EPILOGUE]:
        world.apply(op)
    expected = world.model.feed(VIEWER)
    got, total = world.feed_ids(VIEWER)
    assert got == expected
    assert total == len(expected)
    assert world.walk(VIEWER) == expected
    # The other users' feeds come for the price of a request each.
    for viewer in range(1, USERS):
        assert world.feed_ids(viewer)[0] == world.model.feed(viewer), f"feed of user {viewer}"
