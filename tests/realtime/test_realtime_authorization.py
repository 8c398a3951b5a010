"""Authorization matrix of /ws/feed (the HTTP matrix cannot open sockets): which caller's
stream receives which of the owner's posts, with the actors of tests/test_authorization_matrix.

``follower`` follows the owner; ``stranger`` has no relationship; ``blocked`` followed the
owner and was then blocked; ``anonymous`` has no token and is refused with 4401.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from tests.helpers import Api
from tests.realtime.conftest import open_ws, received_before_sentinel

# The owner's posts each actor's stream receives.
EXPECTED = {
    "owner": {"public", "followers", "private"},
    "follower": {"public", "followers"},
    "stranger": set(),
    "blocked": set(),
}


@pytest.mark.parametrize("actor", sorted(EXPECTED))
async def test_stream_receives_exactly_what_the_feed_shows(
    api: Api, ws: Any, app: FastAPI, actor: str
) -> None:
    owner, follower, stranger, blocked = [await api.register() for _ in range(4)]
    await api.follow(follower, owner)
    await api.follow(blocked, owner)
    await api.block(owner, blocked)
    caller = {"owner": owner, "follower": follower, "stranger": stranger, "blocked": blocked}[actor]
    stream = await ws(caller.access_token)
    await stream.subscribe()
    posts = {v: (await api.post(owner, v, visibility=v))["id"] for v in EXPECTED["owner"]}
    received = await received_before_sentinel(app, stream, caller.id)
    assert set(received) == {posts[v] for v in EXPECTED[actor]}


async def test_anonymous_stream_is_refused(ws_url: str, client: Any) -> None:
    stream = await open_ws(ws_url, None, welcome=False)
    assert (await stream.closed())[0] == 4401
