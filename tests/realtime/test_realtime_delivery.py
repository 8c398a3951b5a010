"""What the stream delivers follows GET /api/v1/feed: visibility, blocks either way,
mutes, follows and deletions (both profiles, real sockets, consumers in-process)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI

from snsfeed.content import service as content
from snsfeed.feed.timelines import Entry
from snsfeed.platform.bus.consumer import ConsumerContext
from snsfeed.platform.bus.envelope import Event
from snsfeed.platform.ids import id_timestamp_ms
from snsfeed.platform.time import utcnow
from snsfeed.realtime import consumers
from snsfeed.realtime.service import feed_recipients
from tests.helpers import Account, Api
from tests.realtime.conftest import WsClient, expect_nothing_before_sentinel, settle


async def _follower_stream(api: Api, ws: Any, author: Account) -> tuple[Account, WsClient]:
    reader = await api.register()
    await api.follow(reader, author)
    stream = await ws(reader.access_token)
    await stream.subscribe("feed_updates")
    return reader, stream


async def _in_feed(api: Api, reader: Account) -> set[str]:
    r = await api.client.get("/api/v1/feed?size=50", headers=reader.headers)
    assert r.status_code == 200, r.text
    return {item["id"] for item in r.json()["items"]}


async def test_post_reaches_a_subscribed_follower_with_a_preview(api: Api, ws: Any) -> None:
    alice = await api.register()
    _, stream = await _follower_stream(api, ws, alice)
    post = await api.post(alice, "새 글 #맛집 hello")
    message = await stream.recv_type("new_content")
    assert message["data"]["content_id"] == post["id"]
    preview = message["data"]["preview"]
    assert preview["author"]["username"] == alice.username
    assert preview["text"] == "새 글 #맛집 hello"
    assert preview["hashtags"] == ["맛집"]
    assert preview["shared_by"] is None


async def test_long_text_is_cut_in_the_preview(api: Api, ws: Any) -> None:
    alice = await api.register()
    _, stream = await _follower_stream(api, ws, alice)
    await api.post(alice, "가" * 1000)
    preview = (await stream.recv_type("new_content"))["data"]["preview"]
    assert preview["text"] == "가" * 280
    assert preview["truncated"] is True


async def test_followers_only_post_reaches_a_follower(api: Api, ws: Any) -> None:
    alice = await api.register()
    _, stream = await _follower_stream(api, ws, alice)
    post = await api.post(alice, "for friends", visibility="followers")
    assert (await stream.recv_type("new_content"))["data"]["content_id"] == post["id"]


async def test_own_private_post_reaches_the_authors_stream(api: Api, ws: Any) -> None:
    alice = await api.register()
    stream = await ws(alice.access_token)
    await stream.subscribe()
    post = await api.post(alice, "note to self", visibility="private")
    assert (await stream.recv_type("new_content"))["data"]["content_id"] == post["id"]


async def test_private_post_does_not_reach_followers(api: Api, ws: Any, app: FastAPI) -> None:
    alice = await api.register()
    bob, stream = await _follower_stream(api, ws, alice)
    post = await api.post(alice, "private", visibility="private")
    await expect_nothing_before_sentinel(app, stream, bob.id)
    assert post["id"] not in await _in_feed(api, bob)


async def test_followers_only_post_does_not_reach_a_non_follower(
    api: Api, ws: Any, app: FastAPI
) -> None:
    alice, stranger = await api.register(), await api.register()
    stream = await ws(stranger.access_token)
    await stream.subscribe()
    await api.post(alice, "for friends", visibility="followers")
    await expect_nothing_before_sentinel(app, stream, stranger.id)


async def test_muted_author_is_not_pushed(api: Api, ws: Any, app: FastAPI) -> None:
    alice = await api.register()
    bob, stream = await _follower_stream(api, ws, alice)
    r = await api.client.post(f"/api/v1/users/{alice.id}/mute", headers=bob.headers)
    assert r.status_code == 200, r.text
    post = await api.post(alice, "you muted me")
    await expect_nothing_before_sentinel(app, stream, bob.id)
    assert post["id"] not in await _in_feed(api, bob)


async def test_unfollowed_author_is_not_pushed(api: Api, ws: Any, app: FastAPI) -> None:
    alice = await api.register()
    bob, stream = await _follower_stream(api, ws, alice)
    r = await api.client.delete(f"/api/v1/users/{alice.id}/follow", headers=bob.headers)
    assert r.is_success, r.text
    await api.post(alice, "after the unfollow")
    await expect_nothing_before_sentinel(app, stream, bob.id)


async def test_unsubscribed_stream_gets_no_new_content(api: Api, ws: Any, app: FastAPI) -> None:
    alice = await api.register()
    bob, stream = await _follower_stream(api, ws, alice)
    await stream.send({"type": "unsubscribe", "channel": "feed_updates"})
    await stream.recv_type("unsubscribed")
    await api.post(alice, "nobody listens")
    await settle(app)  # the post has been pushed (or not) while unsubscribed
    await stream.subscribe("feed_updates")  # to hear the sentinel
    await expect_nothing_before_sentinel(app, stream, bob.id)


async def test_repost_by_a_followed_user_reaches_the_follower(api: Api, ws: Any) -> None:
    alice, carol = await api.register(), await api.register()
    _, stream = await _follower_stream(api, ws, carol)
    post = await api.post(alice, "worth sharing")
    r = await api.client.post(f"/api/v1/content/{post['id']}/share", headers=carol.headers)
    assert r.is_success, r.text
    message = await stream.recv_type("new_content")
    assert message["data"]["content_id"] == post["id"]
    assert message["data"]["preview"]["shared_by"]["id"] == carol.id


async def _blocked_repost_is_not_pushed(
    api: Api, ws: Any, app: FastAPI, *, reader_blocks: bool
) -> None:
    alice, carol = await api.register(), await api.register()
    bob, stream = await _follower_stream(api, ws, carol)
    blocker, blocked = (bob, alice) if reader_blocks else (alice, bob)
    await api.block(blocker, blocked)
    post = await api.post(alice, "shared past a block")
    r = await api.client.post(f"/api/v1/content/{post['id']}/share", headers=carol.headers)
    assert r.is_success, r.text
    await expect_nothing_before_sentinel(app, stream, bob.id)
    assert post["id"] not in await _in_feed(api, bob)


async def test_repost_of_an_author_the_reader_blocked_is_not_pushed(
    api: Api, ws: Any, app: FastAPI
) -> None:
    await _blocked_repost_is_not_pushed(api, ws, app, reader_blocks=True)


async def test_repost_of_an_author_who_blocked_the_reader_is_not_pushed(
    api: Api, ws: Any, app: FastAPI
) -> None:
    await _blocked_repost_is_not_pushed(api, ws, app, reader_blocks=False)


async def test_blocked_author_is_not_pushed(api: Api, ws: Any, app: FastAPI) -> None:
    alice = await api.register()
    bob, stream = await _follower_stream(api, ws, alice)
    await api.block(alice, bob)
    await api.post(alice, "after the block")
    await expect_nothing_before_sentinel(app, stream, bob.id)


async def test_deleted_post_is_announced_to_a_follower(api: Api, ws: Any) -> None:
    alice = await api.register()
    _, stream = await _follower_stream(api, ws, alice)
    post = await api.post(alice, "oops")
    await stream.recv_type("new_content")
    r = await api.client.delete(f"/api/v1/content/{post['id']}", headers=alice.headers)
    assert r.status_code == 204, r.text
    message = await stream.recv_type("content_deleted")
    assert message["data"]["content_id"] == post["id"]


async def test_deleted_private_post_is_not_announced_to_followers(
    api: Api, ws: Any, app: FastAPI
) -> None:
    alice = await api.register()
    bob, stream = await _follower_stream(api, ws, alice)
    post = await api.post(alice, "private oops", visibility="private")
    r = await api.client.delete(f"/api/v1/content/{post['id']}", headers=alice.headers)
    assert r.status_code == 204, r.text
    await expect_nothing_before_sentinel(app, stream, bob.id)


def _created(post: dict[str, Any]) -> Event:
    return Event(
        id=uuid.uuid4(),
        type="content.created",
        version=1,
        occurred_at=utcnow(),
        actor_id=uuid.UUID(post["author_id"]),
        key=post["id"],
        payload={
            "content_id": post["id"],
            "author_id": post["author_id"],
            "visibility": post["visibility"],
        },
    )


async def test_post_deleted_before_delivery_is_not_pushed(api: Api, ws: Any, app: FastAPI) -> None:
    alice = await api.register()
    bob = await api.register()
    await api.follow(bob, alice)
    post = await api.post(alice, "gone before the consumer saw it")
    r = await api.client.delete(f"/api/v1/content/{post['id']}", headers=alice.headers)
    assert r.status_code == 204, r.text
    await settle(app)  # the real events are handled before the stream opens
    stream = await ws(bob.access_token)
    await stream.subscribe()
    ctx = ConsumerContext(app.state.settings, app.state.sessionmaker, app.state.redis)
    async with app.state.sessionmaker() as session:
        await consumers.handle(session, _created(post), ctx)
    await expect_nothing_before_sentinel(app, stream, bob.id)


async def test_stale_event_is_not_pushed(api: Api, ws: Any, app: FastAPI) -> None:
    alice = await api.register()
    bob, stream = await _follower_stream(api, ws, alice)
    post = await api.post(alice, "old news")
    await stream.recv_type("new_content")
    old = _created(post)
    max_age = app.state.settings.realtime_max_event_age_seconds
    from datetime import timedelta

    old = Event(**{**old.__dict__, "occurred_at": utcnow() - timedelta(seconds=max_age + 1)})
    ctx = ConsumerContext(app.state.settings, app.state.sessionmaker, app.state.redis)
    async with app.state.sessionmaker() as session:
        await consumers.handle(session, old, ctx)
    await expect_nothing_before_sentinel(app, stream, bob.id)


async def test_only_connected_followers_are_recipients(api: Api, ws: Any, app: FastAPI) -> None:
    alice, online, offline = await api.register(), await api.register(), await api.register()
    for reader in (online, offline):
        await api.follow(reader, alice)
    await ws(online.access_token)
    post = await api.post(alice, "who is there")
    post_id = uuid.UUID(post["id"])
    async with app.state.sessionmaker() as session:
        stored = (await content.get_many(session, [post_id]))[post_id]
        recipients = await feed_recipients(
            session, app.state.redis, stored, Entry(post_id, id_timestamp_ms(post_id))
        )
    assert recipients == [uuid.UUID(online.id)]
