"""The grouped list, read state, withdrawal of undone actions, and the settings endpoints."""

from __future__ import annotations

import httpx

from tests.helpers import Account, Api
from tests.notifications.helpers import actor_names, kinds, notifications, unread


async def _likers(api: Api, post_id: str, n: int) -> list[Account]:
    people = [await api.register() for _ in range(n)]
    for person in people:
        await api.like(person, post_id)
    return people


async def test_likes_of_one_post_form_one_group(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    post = await api.post(alice)
    likers = await _likers(api, post["id"], 4)
    [group] = await notifications(client, alice)
    assert (group["type"], group["count"]) == ("like", 4)
    # The three most recent actors, newest first: "D, C, B and 1 other liked your post".
    assert actor_names(group) == [p.username for p in reversed(likers[1:])]


async def test_likes_of_different_posts_are_separate_groups(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice, bob = await api.register(), await api.register()
    first, second = await api.post(alice, "one"), await api.post(alice, "two")
    await api.like(bob, first["id"])
    await api.like(bob, second["id"])
    items = await notifications(client, alice)
    assert [i["content"]["id"] for i in items] == [second["id"], first["id"]]


async def test_comments_are_never_grouped(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    post = await api.post(alice)
    await api.comment(bob, post["id"], "one")
    await api.comment(bob, post["id"], "two")
    assert [i["count"] for i in await notifications(client, alice)] == [1, 1]


async def test_follows_group_together(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    for _ in range(3):
        await api.follow(await api.register(), alice)
    [group] = await notifications(client, alice)
    assert (group["type"], group["count"]) == ("follow", 3)


async def test_pages_follow_the_cursor_without_overlap(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    for n in range(5):
        post = await api.post(alice, f"post {n}")
        await api.like(bob, post["id"])
    r = await client.get("/api/v1/notifications", params={"size": 3}, headers=alice.headers)
    first = r.json()
    r = await client.get(
        "/api/v1/notifications",
        params={"size": 3, "cursor": first["next_cursor"]},
        headers=alice.headers,
    )
    second = r.json()
    previews = [i["content"]["preview"] for i in first["items"] + second["items"]]
    assert previews == [f"post {n}" for n in range(4, -1, -1)]
    assert second["next_cursor"] is None


async def test_types_filter(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    post = await api.post(alice)
    await api.like(bob, post["id"])
    await api.follow(bob, alice)
    items = await notifications(client, alice, types=["follow"])
    assert kinds(items) == ["follow"]


async def test_invalid_cursor_is_a_400(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    r = await client.get("/api/v1/notifications?cursor=%%%", headers=alice.headers)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_cursor"


async def test_unknown_type_filter_is_a_422(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    r = await client.get("/api/v1/notifications?types=poke", headers=alice.headers)
    assert r.status_code == 422


async def test_unread_count_counts_notifications(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    post = await api.post(alice)
    await _likers(api, post["id"], 2)
    await api.follow(await api.register(), alice)
    await notifications(client, alice)  # settles the bus
    assert await unread(client, alice) == 3


async def test_marking_one_read_marks_its_group(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    post = await api.post(alice)
    await _likers(api, post["id"], 2)
    await api.follow(await api.register(), alice)
    likes = next(i for i in await notifications(client, alice) if i["type"] == "like")
    r = await client.post(f"/api/v1/notifications/{likes['id']}/read", headers=alice.headers)
    assert r.status_code == 204
    assert await unread(client, alice) == 1
    states = {i["type"]: i["unread"] for i in await notifications(client, alice)}
    assert states == {"like": False, "follow": True}


async def test_marking_someone_elses_notification_is_a_404(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice, bob = await api.register(), await api.register()
    await api.follow(bob, alice)
    [item] = await notifications(client, alice)
    r = await client.post(f"/api/v1/notifications/{item['id']}/read", headers=bob.headers)
    assert r.status_code == 404
    assert await unread(client, alice) == 1


async def test_mark_all_read(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    post = await api.post(alice)
    await _likers(api, post["id"], 2)
    await notifications(client, alice)
    r = await client.post("/api/v1/notifications/read", headers=alice.headers)
    assert r.status_code == 204
    assert await unread(client, alice) == 0


async def test_unlike_withdraws_the_notification(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    post = await api.post(alice)
    await api.like(bob, post["id"])
    r = await client.delete(f"/api/v1/content/{post['id']}/like", headers=bob.headers)
    assert r.status_code == 204
    assert await notifications(client, alice) == []
    assert await unread(client, alice) == 0


async def test_unshare_withdraws_the_notification(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    post = await api.post(alice)
    await client.post(f"/api/v1/content/{post['id']}/share", headers=bob.headers)
    await client.delete(f"/api/v1/content/{post['id']}/share", headers=bob.headers)
    assert await notifications(client, alice) == []


async def test_unfollow_withdraws_the_notification(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    await api.follow(bob, alice)
    r = await client.delete(f"/api/v1/users/{alice.id}/follow", headers=bob.headers)
    assert r.status_code == 204
    assert await notifications(client, alice) == []


async def test_deleted_comment_leaves_no_notification(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    post = await api.post(alice)
    comment = await api.comment(bob, post["id"])
    r = await client.delete(f"/api/v1/comments/{comment['id']}", headers=bob.headers)
    assert r.status_code == 204
    assert await notifications(client, alice) == []


async def test_deleted_post_leaves_no_notification(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    post = await api.post(alice, f"hey @{bob.username}")
    r = await client.delete(f"/api/v1/content/{post['id']}", headers=alice.headers)
    assert r.status_code == 204
    assert await notifications(client, bob) == []
    assert await unread(client, bob) == 0


async def test_deleted_actor_leaves_no_notification(api: Api, client: httpx.AsyncClient) -> None:
    alice, bob = await api.register(), await api.register()
    await api.follow(bob, alice)
    r = await client.delete("/api/v1/users/me", headers=bob.headers)
    assert r.status_code == 204, r.text
    assert await notifications(client, alice) == []


async def test_settings_have_defaults(api: Api, client: httpx.AsyncClient) -> None:
    alice = await api.register()
    r = await client.get("/api/v1/notifications/settings", headers=alice.headers)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"follow", "like", "comment", "reply", "mention", "share"}
    assert body["like"] == {"in_app": True, "push": True, "email": False}
    assert body["mention"] == {"in_app": True, "push": True, "email": True}


async def test_settings_patch_changes_only_what_it_names(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice = await api.register()
    r = await client.patch(
        "/api/v1/notifications/settings",
        json={"like": {"email": True}, "follow": {"push": False}},
        headers=alice.headers,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["like"] == {"in_app": True, "push": True, "email": True}
    assert body["follow"] == {"in_app": True, "push": False, "email": True}
    again = await client.get("/api/v1/notifications/settings", headers=alice.headers)
    assert again.json() == body


async def test_settings_patch_rejects_unknown_types_and_channels(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice = await api.register()
    for body in ({"poke": {"push": True}}, {"like": {"sms": True}}, {"like": {"push": "maybe"}}):
        r = await client.patch("/api/v1/notifications/settings", json=body, headers=alice.headers)
        assert r.status_code == 422, (body, r.text)


async def test_in_app_off_keeps_the_type_out_of_the_list(
    api: Api, client: httpx.AsyncClient
) -> None:
    alice, bob = await api.register(), await api.register()
    r = await client.patch(
        "/api/v1/notifications/settings",
        json={"follow": {"in_app": False}},
        headers=alice.headers,
    )
    assert r.status_code == 200
    post = await api.post(alice)
    await api.follow(bob, alice)
    await api.like(bob, post["id"])
    assert kinds(await notifications(client, alice)) == ["like"]
    assert await unread(client, alice) == 1
