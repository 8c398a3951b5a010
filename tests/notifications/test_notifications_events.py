"""Which actions notify whom (both profiles, through the API and the event bus)."""

from __future__ import annotations

import httpx

from tests.helpers import Api
from tests.notifications.helpers import actor_names, kinds, notifications


async def test_follow_notifies_the_followed_user(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    await api.follow(bob, alice)
    items = await notifications(client, alice)
    assert kinds(items) == ["follow"]
    assert actor_names(items[0]) == [bob.username]
    assert items[0]["content"] is None
    assert await notifications(client, bob) == []


async def test_like_notifies_the_author_with_the_post(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    post = await api.post(alice, "맛집 추천 #맛집")
    await api.like(bob, post["id"])
    [item] = await notifications(client, alice)
    assert item["type"] == "like"
    assert item["content"] == {"id": post["id"], "preview": "맛집 추천 #맛집"}


async def test_acting_on_your_own_post_notifies_nobody(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    post = await api.post(alice, "mine")
    await api.like(alice, post["id"])
    await api.comment(alice, post["id"], "talking to myself")
    r = await client.post(f"/api/v1/content/{post['id']}/share", headers=alice.headers)
    assert r.status_code == 201
    assert await notifications(client, alice) == []


async def test_comment_notifies_the_author(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    post = await api.post(alice)
    comment = await api.comment(bob, post["id"], "좋네요")
    [item] = await notifications(client, alice)
    assert (item["type"], item["comment_id"]) == ("comment", comment["id"])


async def test_reply_notifies_the_parent_author_and_the_post_author(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice, bob, carol = await api.register(), await api.register(), await api.register()
    post = await api.post(alice)
    parent = await api.comment(bob, post["id"], "first")
    await api.comment(carol, post["id"], "reply", parent=parent["id"])
    assert kinds(await notifications(client, bob)) == ["reply"]
    assert kinds(await notifications(client, alice)) == ["comment", "comment"]


async def test_reply_to_the_post_authors_comment_is_one_reply_notification(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice, bob = await api.register(), await api.register()
    post = await api.post(alice)
    parent = await api.comment(alice, post["id"], "my own comment")
    await api.comment(bob, post["id"], "reply", parent=parent["id"])
    assert kinds(await notifications(client, alice)) == ["reply"]


async def test_mention_notifies_the_mentioned_user(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    post = await api.post(alice, f"안녕 @{bob.username} 반가워")
    [item] = await notifications(client, bob)
    assert item["type"] == "mention"
    assert item["content"]["id"] == post["id"]
    assert actor_names(item) == [alice.username]


async def test_followers_only_mention_skips_a_mentioned_stranger(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice, bob, carol = await api.register(), await api.register(), await api.register()
    await api.follow(carol, alice)
    await api.post(alice, f"@{bob.username} @{carol.username}", visibility="followers")
    assert await notifications(client, bob) == []
    assert kinds(await notifications(client, carol)) == ["mention"]


async def test_edit_adding_a_mention_notifies_once(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    post = await api.post(alice, f"hi @{bob.username}")
    r = await client.patch(
        f"/api/v1/content/{post['id']}",
        json={"text": f"hi again @{bob.username}"},
        headers=alice.headers,
    )
    assert r.status_code == 200, r.text
    assert kinds(await notifications(client, bob)) == ["mention"]


async def test_share_notifies_the_author(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    post = await api.post(alice)
    r = await client.post(f"/api/v1/content/{post['id']}/share", headers=bob.headers)
    assert r.status_code == 201
    assert kinds(await notifications(client, alice)) == ["share"]


async def test_blocked_user_cannot_notify_the_blocker(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    await api.block(alice, bob)
    await api.post(bob, f"@{alice.username} can you hear me")
    assert await notifications(client, alice) == []


async def test_blocker_cannot_notify_the_blocked_user(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    await api.block(alice, bob)
    await api.post(alice, f"@{bob.username} about you")
    assert await notifications(client, bob) == []


async def test_block_withdraws_earlier_notifications(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    await api.follow(bob, alice)
    await api.block(alice, bob)
    r = await client.delete(f"/api/v1/users/{bob.id}/block", headers=alice.headers)
    assert r.status_code == 204
    assert await notifications(client, alice) == []


async def test_muted_user_does_not_notify_the_muter(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    post = await api.post(alice)
    await api.mute(alice, bob)
    await api.like(bob, post["id"])
    await api.follow(bob, alice)
    assert await notifications(client, alice) == []


async def test_muting_later_hides_earlier_notifications(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice, bob = await api.register(), await api.register()
    await api.follow(bob, alice)
    assert len(await notifications(client, alice)) == 1
    await api.mute(alice, bob)
    assert await notifications(client, alice) == []
